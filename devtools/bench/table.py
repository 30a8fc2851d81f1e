"""The bench result as a plain-text table: one row per figure, with its target and verdict."""

from __future__ import annotations

from devtools.bench.targets import SCALE_TARGETS, TARGETS


def _row(name: str, value: object, target: str = "") -> str:
    return f"{name:<44} {value!s:>16}  {target}"


def _ms3(stats: dict) -> str:
    return f"{stats['p50']:.1f}/{stats['p95']:.1f}/{stats['p99']:.1f}"


def _target(key: str, result: dict) -> str:
    state = result.get("verdict", {}).get(key, "")
    return f"<= {({**TARGETS, **SCALE_TARGETS})[key]:g}  {state}"


def _header(result: dict) -> list[str]:
    machine = result["machine"]
    return [
        f"interviewer bench  seed={result['seed']}  cpus={machine['cpus']}  "
        f"load {machine['load_average_1m_at_start']}"
        f"->{machine.get('load_average_1m_at_end')}  "
        f"percentiles: {result['percentile_method']}",
        "",
    ]


_COLUMNS = [_row("metric", "value", "target"), _row("-" * 44, "-" * 16, "-" * 16)]


def _offline_rows(off: dict, result: dict) -> list[str]:
    lines = [
        _row(
            f"offline turn ms p50/p95/p99 (n={off['turn_ms']['n']})",
            _ms3(off["turn_ms"]),
            _target("offline.turn_ms.p95", result).replace("<=", "p95 <="),
        )
    ]
    lines += [_row(f"  {phase} ms p50/p95/p99", _ms3(s)) for phase, s in off["phases_ms"].items()]
    lines.append(_row("offline start ms p50/p95/p99", _ms3(off["start_ms"])))
    if storage := off.get("storage"):
        lines.append(
            _row(
                f"checkpoints / transcripts ({storage['checkpoints_bytes'] / 1e6:.2f} / "
                f"{storage['transcripts_bytes'] / 1e6:.2f} MB)",
                storage["checkpoints_over_transcripts"],
                _target("offline.storage.checkpoints_over_transcripts", result),
            )
        )
        lines.append(
            _row("  write-ahead log while open MB", f"{storage['log_bytes_while_open'] / 1e6:.2f}")
        )
    return lines


def _llm_rows(llm: dict, result: dict) -> list[str]:
    return [
        _row(
            f"llm overhead ratio (delay {llm['server_delay_ms']:.0f} ms)",
            llm["overhead_ratio"],
            _target("llm.overhead_ratio", result),
        ),
        _row("  streaming off", llm["overhead_ratio_no_stream"]),
        *(_row(f"  {phase} ms (mean)", ms) for phase, ms in llm["overhead_breakdown_ms"].items()),
        _row("llm turn ms p50/p95/p99", _ms3(llm["model_turn_ms"])),
        _row(
            "llm calls per answer", llm["calls_per_answer"], _target("llm.calls_per_answer", result)
        ),
        _row(
            "llm calls per final report",
            llm["report_calls_per_interview"],
            _target("llm.report_calls_per_interview", result),
        ),
        _row("llm tokens per interview (estimated)", llm["tokens_per_interview"]),
    ]


def _regrade_rows(reg: dict, result: dict) -> list[str]:
    return [
        _row(
            f"regrade {reg['questions']} q concurrent / single call",
            reg["concurrent_over_single"],
            _target("regrade.concurrent_over_single", result),
        ),
        _row("regrade serial / single call", reg["serial_over_single"]),
        _row("regrade single call s", reg["single_call_s"]),
    ]


def _startup_rows(start: dict, result: dict) -> list[str]:
    lines = [_row("startup import agent s", start["import_s"], _target("startup.import_s", result))]
    for key in ("import_session_s", "cli_help_s", "first_render_s", "server_ready_s"):
        value = start.get(key)
        lines.append(_row(f"startup {key}", "n/a" if value is None else value))
    return lines


_SECTION_ROWS = {
    "offline": _offline_rows,
    "llm": _llm_rows,
    "regrade": _regrade_rows,
    "startup": _startup_rows,
}

_SCALE_STORAGES = {"local": "local", "postgres": "PostgreSQL"}


def _scale_line(storage: str, load: str, m: dict) -> str:
    ms = _ms3(m["turn_ms"]) if m["turn_ms"] else "n/a"
    return (
        f"{storage:<11} {load:<28} {m['turns']:>6} {m['errors']:>6} "
        f"{m['turns_per_s']:>8.1f}  {ms:>20}"
    )


def _candidates(n: int) -> str:
    return f"{n} candidate" + ("s" if n != 1 else "")


def _scale_storage_rows(name: str, s: dict) -> list[str]:
    lines = [
        _scale_line(name, f"{_candidates(m['candidates'])}, no pause", m) for m in s["saturation"]
    ]
    steady = s["steady"]
    load = f"{steady['offered_turns_per_s']:.1f}/s due, {_candidates(steady['candidates'])}"
    return [*lines, _scale_line(name, load, steady)]


def _scale_rows(scale: dict, result: dict) -> list[str]:
    """Turns a second and turn times at each load, then storage, capacity and memory."""
    head = (
        f"{'storage':<11} {'load':<28} {'turns':>6} {'errors':>6} {'turns/s':>8}  "
        f"{'turn ms p50/p95/p99':>20}"
    )
    lines = [
        "scale: one process, one Interviewer shared by every candidate (a thread each); "
        "a turn = one reply; offline rubric engine",
        head,
        "-" * len(head),
    ]
    measured = {k: name for k, name in _SCALE_STORAGES.items() if k in scale}
    for key, name in measured.items():
        if "error" not in scale[key]:
            lines += _scale_storage_rows(name, scale[key])
    lines.append("")
    for key, name in measured.items():
        s = scale[key]
        if "error" in s:
            lines.append(f"{name}: n/a  {s['error']}")
            continue
        st = s["storage"]
        lines += [
            f"{name}: {s['where']}; {s['run_s']:g} s",
            f"  storage per interview {st['bytes_per_interview'] / 1e3:.1f} kB "
            f"({st['bytes'] / 1e6:.1f} MB / {st['interviews']} interviews)",
            f"  one process serves about {s['candidates_answering_every_30s']} candidates who "
            "answer every 30 s (half the best turns/s, times 30)",
            f"  errors {s['errors']}  target {_target(f'scale.{key}.errors', result)}",
        ]
    if "postgres" in measured and "error" not in scale["postgres"]:
        target = _target("scale.postgres.steady.turn_ms.p95", result)
        lines.append(f"target: PostgreSQL turn p95 ms at the steady load {target}")
    browser = scale.get("browser")
    if browser and "error" in browser:
        lines.append(f"app memory per browser session: n/a  {browser['error']}")
    elif browser:
        lines.append(
            f"app memory per browser session: {browser['mb_per_session']:.2f} MB "
            f"(server RSS {browser['rss_one_session_mb']:.1f} MB with one session, "
            f"{browser['rss_after_mb']:.1f} MB with {browser['sessions']} more)"
        )
    return lines


def format_table(result: dict) -> str:
    """The bench result as a plain-text table; a section that could not run says why last."""
    lines = _header(result)
    others = any(name in result for name in _SECTION_ROWS)
    if others:
        lines += _COLUMNS
    for name, rows in _SECTION_ROWS.items():
        section = result.get(name)
        if section and "error" not in section:
            lines += rows(section, result)
    for name in _SECTION_ROWS:
        section = result.get(name)
        if section and "error" in section:
            lines.append(_row(name, "n/a", section["error"]))
    scale = result.get("scale")
    if scale and "error" in scale:
        lines.append(_row("scale", "n/a", scale["error"]))
    elif scale:
        if others:
            lines.append("")
        lines += _scale_rows(scale, result)
    return "\n".join(lines)

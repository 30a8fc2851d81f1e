"""The `interviewer` command line: run, list, show, grade, check rubrics, doctor, regrade, gc, ui.

Everything printed goes through `agent.terminal`, so text from answers, models and files shows
its control characters instead of handing them to the terminal.
"""

from __future__ import annotations

import argparse
import difflib
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from agent.config import Settings, load_settings
from agent.grading.providers import Provider, make_provider
from agent.grading.rubrics import (
    COMPANY_TYPES,
    DIFFICULTIES,
    ROLES,
    TRACKS,
    Bank,
    Question,
    RubricError,
    load_bank,
)
from agent.grading.screen import command_of
from agent.interview.interviewer import (
    FOLLOWUPS,
    QUESTIONS,
    SEEDS,
    Interviewer,
    InterviewError,
    interview_options,
    is_generated_id,
    new_interview_id,
    range_text,
    settle_heap,
)
from agent.interview.nodes import Said
from agent.interview.progress import load_all, practice_history
from agent.interview.state import InterviewOptions
from agent.profiles import Profile
from agent.storage.checkpoints import StorageError
from agent.storage.records import open_records
from agent.storage.transcripts import TranscriptError, check_id, to_markdown
from agent.terminal import printable, printable_json

MAX_ANSWER_CHARS = 100_000
DEFAULT_QUESTIONS = 3


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""


class Interrupted(Exception):
    """Ctrl-C during an interview; the message is the command that continues it."""


def _out(text: str = "") -> None:
    sys.stdout.write(printable(text) + "\n")
    sys.stdout.flush()


def _out_json(text: str) -> None:
    sys.stdout.write(printable_json(text) + "\n")
    sys.stdout.flush()


def _err(text: str) -> None:
    sys.stderr.write(printable(text) + "\n")


# --- run ---------------------------------------------------------------------------------------


def _read_answer(interactive: bool) -> str | None:
    """One answer: a line when piped; in a terminal, lines until an empty line."""
    if not interactive:
        line = sys.stdin.readline()
        return None if line == "" else line.rstrip("\n")
    lines: list[str] = []
    while True:
        try:
            line = input("> " if not lines else "  ")
        except EOFError:
            return "\n".join(lines) if lines else None
        if line == "" and lines:
            return "\n".join(lines)
        if line != "":
            lines.append(line)
        if len(lines) == 1 and command_of(line):
            return line


def cmd_run(args: argparse.Namespace, settings: Settings) -> int:
    interactive = sys.stdin.isatty()
    if hasattr(sys.stdin, "reconfigure"):
        # Bytes that are not UTF-8 become U+FFFD in the answer, whatever the locale says,
        # instead of ending the interview with a decoding error.
        sys.stdin.reconfigure(errors="replace")
    chosen = list(dict.fromkeys(args.question or []))
    _options(args, settings, chosen)  # refuse bad choices before opening anything
    interview_id = _continued_id(args) or new_interview_id()
    with Interviewer(settings) as interviewer:
        first = _chosen_questions(interviewer.bank, chosen, settings)
        options = _options(args, settings, chosen, interviewer)
        settle_heap()
        _out(_banner(interviewer.provider, settings.active))
        if interactive:
            _out("Answer in as many lines as you like; an empty line sends it.")
            _out("Commands: hint, repeat, skip, end.")
        _interview(interviewer, interview_id, options, first, args, interactive)
    return 0


def _options(
    args: argparse.Namespace,
    settings: Settings,
    chosen: list[str],
    interviewer: Interviewer | None = None,
) -> InterviewOptions:
    """The interview's options; with `interviewer`, a new interview's plan avoids the questions
    of recent interviews and brings back those scored low a while ago."""
    history = None
    if interviewer is not None and not args.continue_id:
        history = practice_history(load_all(interviewer.store)[0], datetime.now(UTC))
    try:
        return interview_options(
            role=args.role,
            company_type=args.company_type,
            tracks=args.track or [],
            questions=_question_count(args, chosen),
            difficulty=args.difficulty,
            max_followups=args.followups if args.followups is not None else settings.max_followups,
            feedback=args.feedback,
            seed=args.seed,
            resume=_cv_lines(args),
            job=_job_text(args),
            history=history,
        )
    except InterviewError as exc:
        raise CliError(str(exc)) from None


def _question_count(args: argparse.Namespace, chosen: list[str]) -> int:
    """How many questions: `--questions`, or enough for those chosen with `--question`."""
    if args.questions is None:
        return max(DEFAULT_QUESTIONS, len(chosen))
    if args.questions < len(chosen):
        raise CliError(
            f"argument --questions: {args.questions} is fewer than the {len(chosen)} questions "
            "chosen with --question"
        )
    return args.questions


def _chosen_questions(bank: Bank, ids: list[str], settings: Settings) -> list[Question]:
    """The bank's questions named with `--question`, refused argparse's way when unknown."""
    for qid in ids:
        if qid not in bank:
            near = difflib.get_close_matches(qid, [q.id for q in bank.questions], n=3)
            hint = (
                f" (did you mean {', '.join(near)}?)"
                if near
                else f" (the ids are in {settings.rubrics_dir})"
            )
            raise CliError(f"argument --question: unknown question id {qid!r}{hint}")
    return [bank.as_written(qid) for qid in ids]


def _interview(
    interviewer: Interviewer,
    interview_id: str,
    options: InterviewOptions,
    first: list[Question],
    args: argparse.Namespace,
    interactive: bool,
) -> None:
    """Start or continue the interview (`first` leading a new one's plan), then take answers
    until it is over. Once it has begun, an interruption or a storage failure says how to
    continue it."""
    again = _continue_command(interview_id, args)
    live = _Live()
    if not args.continue_id:
        interviewer.hold_open(interview_id)
        _out(f"Interview {interview_id} (to continue it later: `{again}`)")
    try:
        if args.continue_id:
            result = _continue(interviewer, interview_id, live)
        else:
            result = interviewer.start(
                options, interview_id=interview_id, custom_questions=first, on_said=live.hear
            )
            _show(result, live)
        while not result.finished:
            answer = _read_answer(interactive)
            if answer is None:
                answer = "end"  # out of input: end cleanly, with a report
            if len(answer) > MAX_ANSWER_CHARS:
                _out(f"(answer truncated to {MAX_ANSWER_CHARS} characters)")
                answer = answer[:MAX_ANSWER_CHARS]
            result = interviewer.reply(interview_id, answer, on_said=live.hear)
            _show(result, live)
    except KeyboardInterrupt:
        raise Interrupted(again) from None
    except StorageError as exc:
        raise StorageError(f"{exc}; then continue with `{again}`") from None
    _out(f"\nTranscript: {interviewer.store.location(interview_id)}")


def _continue(interviewer: Interviewer, interview_id: str, live: _Live):
    state = interviewer.state(interview_id)
    if state is None:
        raise CliError(f"no interview with id {interview_id}")
    interviewer.hold_open(interview_id)
    if state.get("status") == "finished":
        interviewer.recover(interview_id)  # its transcript may be behind: bring it up to date
        raise CliError(
            f"interview {interview_id} has already finished; see `interviewer show {interview_id}`"
        )
    _out(f"Continuing interview {interview_id}.")
    # A crash can cut a turn short: finish it and bring the transcript up to date.
    result = interviewer.recover(interview_id, on_said=live.hear)
    if not result.messages:
        _out(f"\nInterviewer: {interviewer.waiting_prompt(interview_id)}")
    _show(result, live)
    return result


def _continue_command(interview_id: str, args: argparse.Namespace) -> str:
    """The command that continues this interview, with the profile it was run with."""
    profile = f" --profile {args.profile}" if args.profile else ""
    return f"interviewer run --continue {interview_id}{profile}"


def _continued_id(args: argparse.Namespace) -> str | None:
    """The interview `--continue` names, refused with the right option when it is a CV file."""
    value = args.continue_id
    if value is None:
        return None
    if args.cv or args.bullet:
        raise CliError("--cv and --bullet start a new interview; leave them out with --continue")
    if args.question or args.job_file:
        raise CliError(
            "--question and --job-file start a new interview; leave them out with --continue"
        )
    if Path(value).is_file() or "." in value or os.sep in value:
        raise CliError(
            f"--continue takes an interview id (see `interviewer list`), and {value!r} looks "
            f"like a file: to give your CV, use --cv {value}"
        )
    return check_id(value)


def _cv_lines(args: argparse.Namespace) -> list[str]:
    lines = list(args.bullet or [])
    if args.cv:
        if is_generated_id(args.cv) and not Path(args.cv).exists():
            raise CliError(
                f"--cv takes a file of CV lines, and {args.cv!r} is an interview id: to continue "
                f"that interview, use --continue {args.cv}"
            )
        try:
            lines += Path(args.cv).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise CliError(f"cannot read the CV file {args.cv}: {exc}") from None
    return lines


def _job_text(args: argparse.Namespace) -> str | None:
    if not args.job_file:
        return None
    try:
        return Path(args.job_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read the job description file {args.job_file}: {exc}") from None


def _banner(provider: Provider, profile: Profile) -> str:
    """Who grades; `profile` is the one the provider was made from."""
    where = f" at {profile.base_url}, profile {profile.name}" if profile.brain == "llm" else ""
    return f"Graded by: {provider.brain} ({provider.model}){where}"


class _Live:
    """Prints the interviewer's words as they are said. A model's drafts open a line that grows
    as it writes; the message with the draft's id then ends the line with what the draft had not
    shown yet or, when the model's reply was not used and the message says something else,
    follows on a line of its own."""

    def __init__(self) -> None:
        self.draft_id: str | None = None
        self.drafted = ""
        self.shown: set[str] = set()  # ids of the messages printed

    def hear(self, said: Said) -> None:
        if self.draft_id is not None and said.message_id != self.draft_id:
            self.end_draft()
        if not said.final:
            if self.draft_id is None:
                sys.stdout.write("\nInterviewer: ")
                self.draft_id = said.message_id
            if not said.text.startswith(self.drafted):  # drafts only grow; if not, start anew
                sys.stdout.write("\nInterviewer: ")
                self.drafted = ""
            sys.stdout.write(printable(said.text[len(self.drafted) :]))
            sys.stdout.flush()
            self.drafted = said.text
            return
        self.shown.add(said.message_id)
        if self.draft_id == said.message_id:
            drafted = self.drafted
            self.end_draft(newline=False)
            if said.text.startswith(drafted):
                _out(said.text[len(drafted) :])
                return
            _out()
        _out(f"\nInterviewer: {said.text}")

    def end_draft(self, *, newline: bool = True) -> None:
        if self.draft_id is not None and newline:
            _out()
        self.draft_id, self.drafted = None, ""


def _show(result, live: _Live | None = None) -> None:
    """Messages of a turn not already printed live, and any save warning."""
    shown = live.shown if live else set()
    if live:
        live.end_draft()
    for message in result.messages:
        if message.get("id") not in shown:
            _out(f"\nInterviewer: {message['text']}")
    shown.clear()
    if result.save_error:
        _out(f"Warning: {result.save_error} (the interview goes on; it is kept in the checkpoint)")


# --- list / show -------------------------------------------------------------------------------


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    with open_records(settings) as records:
        items = records.list()
    if not items:
        _out(f"No transcripts in {records.storage.describe()}")
        return 0
    for item in items:
        if not item.ok:
            _out(f"{item.id:<28} unreadable: {item.error}")
            continue
        score = "-" if item.score is None else f"{item.score:.0f}"
        _out(
            f"{item.id:<28} {item.created_at[:16]:<17} {item.status:<12} {item.role:<12} "
            f"{item.brain}/{item.model:<14} score {score}"
        )
    return 0


def cmd_show(args: argparse.Namespace, settings: Settings) -> int:
    with open_records(settings) as records:
        transcript = records.load(args.id)
    if args.format == "json":
        _out_json(transcript.model_dump_json(indent=2))
    else:
        _out(to_markdown(transcript))
    return 0


# --- grade -------------------------------------------------------------------------------------


def cmd_grade(args: argparse.Namespace, settings: Settings) -> int:
    bank = load_bank(settings.rubrics_dir)
    provider = make_provider(settings)
    if args.batch:
        return _grade_batch(Path(args.batch), bank, provider)
    if not args.question or args.answer is None:
        raise CliError("grade needs --question ID and --answer TEXT, or --batch FILE.jsonl")
    if args.question not in bank:
        raise CliError(f"unknown question id: {args.question}")
    assessment = provider.assess(bank.get(args.question), args.answer)
    if args.json:
        _out_json(json.dumps(assessment.grade_json(), ensure_ascii=False))
        return 0
    _out(
        f"{args.question}: {assessment.score:.0f}/100  flags: {', '.join(assessment.flags) or '-'}"
    )
    if assessment.note:
        _out(assessment.note)
    for c in assessment.criteria:
        _out(f"  {c.id:<22} {c.score}/{c.max_score}  {c.level}")
        for quote in c.evidence:
            _out(f"      evidence: “{quote}”")
        for gap in c.missing:
            _out(f"      missing:  {gap}")
    return 0


def _grade_batch(path: Path, bank, provider) -> int:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise CliError(f"cannot read {path}: {exc}") from None
    failures = 0
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            qid, answer = item["question_id"], item["answer"]
            if not isinstance(qid, str) or not isinstance(answer, str):
                raise TypeError("question_id and answer must be strings")
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            _err(f"{path.name}:{number}: skipped: {exc}")
            failures += 1
            continue
        if qid not in bank:
            _err(f"{path.name}:{number}: skipped: unknown question id {qid}")
            failures += 1
            continue
        grade = provider.assess(bank.get(qid), answer).grade_json()
        _out_json(json.dumps(grade, ensure_ascii=False))
    return 1 if failures else 0


# --- rubrics -----------------------------------------------------------------------------------


def cmd_rubrics_check(args: argparse.Namespace, settings: Settings) -> int:
    bank = load_bank(settings.rubrics_dir)
    _out(f"OK: {len(bank)} questions in {settings.rubrics_dir}")
    coverage = bank.coverage()
    _out(f"{'track':<18}" + "".join(f"{d:>8}" for d in DIFFICULTIES) + f"{'total':>8}")
    for track, row in coverage.items():
        _out(
            f"{track:<18}"
            + "".join(f"{row[d]:>8}" for d in DIFFICULTIES)
            + f"{sum(row.values()):>8}"
        )
    return 0


# --- bench -------------------------------------------------------------------------------------


def _devtool(name: str):
    """A development tool from the source checkout (it is not part of the installed package)."""
    import importlib

    checkout = Path(__file__).resolve().parent.parent
    if not (checkout / "devtools" / "__init__.py").is_file():
        raise CliError(f"`interviewer {name}` needs a source checkout: devtools/ is not installed")
    if str(checkout) not in sys.path:
        sys.path.insert(0, str(checkout))
    return importlib.import_module(f"devtools.{name}")


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    bench = _devtool("bench")  # heavy measuring code stays out of every other command's startup

    seed = bench.DEFAULT_SEED if args.seed is None else args.seed
    scale_options = {
        "database_url": args.database_url,
        "turns": args.turns,
        "browser_sessions": args.browser_sessions,
    }
    given = {key: value for key, value in scale_options.items() if value is not None}
    if not args.scale:
        if given:
            raise CliError("--database-url, --turns and --browser-sessions go with --scale")
        result = bench.run_bench(args.interviews, seed, log=_err)
    else:
        if args.database_url and not args.database_url.startswith(("postgresql:", "postgres:")):
            raise CliError("--database-url must be a postgresql:// URL")
        plan = bench.ScalePlan(**given)
        result = bench.run_bench(seed=seed, sections=("scale",), scale=plan, log=_err)
    if args.json:
        _out_json(json.dumps(result, indent=2))
    else:
        _out(bench.format_table(result))
    return 0


# --- calibrate ---------------------------------------------------------------------------------


def cmd_calibrate(args: argparse.Namespace, settings: Settings) -> int:
    from agent.grading.calibration import calibrate

    bank = load_bank(settings.rubrics_dir)
    result = calibrate(bank, make_provider(settings), settings.rubrics_dir, args.split)
    if args.json:
        _out_json(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        _print_calibration(result)
    return 0


def _print_calibration(result: dict) -> None:
    from agent.grading.calibration import SPLITS

    _out(f"Calibration of {result['brain']} ({result['model']}), split: {result['split']}")
    sections = [*SPLITS, "overall"] if result["split"] == "all" else ["overall"]
    _out(f"{'split':<19}{'n':>5}{'rho':>8}{'QWK':>8}{'exact':>8}{'within-1':>10}")
    for name in sections:
        s = result[name]
        label = result["split"] if name == "overall" and len(sections) == 1 else name
        _out(
            f"{label:<19}{s['n']:>5}{s['spearman_rho']:>8.3f}{s['qwk']:>8.3f}"
            f"{s['exact']:>8.3f}{s['within_1']:>10.3f}"
        )
    overall = result["overall"]
    _out("\nScore band per kind (0-100):")
    for kind, b in overall["bands"].items():
        _out(
            f"  {kind:<16} n={b['n']:<3} min {b['min']:>5.1f}  median {b['median']:>5.1f}  "
            f"mean {b['mean']:>5.1f}  max {b['max']:>5.1f}"
        )
    _out("\nTargets:")
    for name in sections:
        targets = result[name]["targets"]
        label = result["split"] if name == "overall" and len(sections) == 1 else name
        _out(
            f"  {label:<19}"
            + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in targets.items())
        )
    for row in overall["violations"]:
        _out(f"  violation: {row}")
    if overall["worst"]:
        _out("\nWorst mis-grades (dev only; held-out answers are never shown):")
        for row in overall["worst"]:
            _out(
                f"  [{row['split']}] {row['question_id']} ({row['kind']}): label {row['label']}, "
                f"graded {row['predicted']} ({row['score']:.0f}/100) flags {row['flags'] or '-'}"
            )
            _out(f"      answer: {row['answer']!r}")
            for cid, quotes in row["evidence"].items():
                _out(f"      {cid}: " + " / ".join(f"“{q}”" for q in quotes))


# --- doctor / regrade --------------------------------------------------------------------------


def cmd_doctor(args: argparse.Namespace, settings: Settings) -> int:
    from agent.doctor import format_report, run_doctor

    report = run_doctor(settings)
    if args.json:
        _out_json(json.dumps(report.to_json(), indent=2))
    else:
        _out(format_report(report))
    return 0 if report.ok else 1


def cmd_regrade(args: argparse.Namespace, settings: Settings) -> int:
    from agent.grading.regrade import format_regrade, regrade, save_regrade

    result = regrade(settings, args.id, settings.profile, workers=args.workers)
    path = save_regrade(settings, result)
    if args.json:
        _out_json(result.model_dump_json(indent=2))
    else:
        _out(format_regrade(result))
        _out(f"Saved: {path}")
    return 0


# --- gc ----------------------------------------------------------------------------------------


def cmd_gc(args: argparse.Namespace, settings: Settings) -> int:
    path = settings.checkpoints
    if settings.database_url is None and not path.exists():
        _out(f"No checkpoint database at {path}: nothing to collect.")
        return 0
    with open_records(settings) as records:
        storage = records.storage
        if records.checkpoints is None:
            raise StorageError(f"cannot open the interview state database {path}")
        before = storage.size_bytes()
        records.list()  # brings any transcript behind its checkpoint up to date
        seen, deleted = records.prune_all()
        try:
            storage.compact()
        except storage.errors as exc:  # e.g. another process is writing right now
            _err(f"interviewer: could not compact {storage.describe()} ({exc}); try again later")
        after = storage.size_bytes()
    _out(
        f"Pruned {deleted} old checkpoint(s) of {seen} interview(s); interviews take "
        f"{_megabytes(before)} -> {_megabytes(after)} in {storage.describe()}."
    )
    return 0


# --- migrate -----------------------------------------------------------------------------------


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from agent.storage.transfer import copy_to_database  # psycopg loads only when used

    report = copy_to_database(settings, owner=args.owner)
    _out(report.summary())
    return 0


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.2f} MB"


# --- ui ----------------------------------------------------------------------------------------


def cmd_ui(args: argparse.Namespace, settings: Settings) -> int:
    from agent.browser_app import serve  # Streamlit loads only when the app starts

    if settings.database_url is not None:
        # Reach the database and bring its tables up to date before serving anyone, so a replica
        # that cannot reach it fails here, at once and in words, not on its first visitor.
        from agent.storage.postgres import PostgresStorage

        PostgresStorage(settings.database_url.get_secret_value()).close()
    return serve(args.streamlit_options, profile=args.profile)


# --- parser ------------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise CliError(message)


class _Renamed(argparse.Action):
    """An option's former name: it works as the `new` one does, with a note saying so."""

    def __init__(self, option_strings: list[str], dest: str, *, new: str, **kwargs) -> None:
        super().__init__(option_strings, dest, metavar=new.lstrip("-").upper(), **kwargs)
        self.help = argparse.SUPPRESS
        self.new = new

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        _err(f"interviewer: note: {option_string} is now {self.new}; the old name still works")
        setattr(namespace, self.dest, values)


def _whole(low: int, high: int | None = None) -> Callable[[str], int]:
    """An argparse type: a whole number from `low` (to `high`), refused argparse's way."""
    bounds = f"of at least {low}" if high is None else range_text((low, high))

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"must be a whole number {bounds}, not {text!r}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="interviewer", description="Mock ML/AI engineer interviews.")
    parser.add_argument("--profile", help="model profile from interviewer.toml (default: offline)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    # --profile also after the command; SUPPRESS keeps a global one when it is not repeated.
    profile_opt = _Parser(add_help=False)
    profile_opt.add_argument("--profile", default=argparse.SUPPRESS, help="model profile to use")

    run = sub.add_parser("run", help="a mock interview in the terminal", parents=[profile_opt])
    run.add_argument(
        "--questions",
        type=_whole(*QUESTIONS),
        help=f"how many (default {DEFAULT_QUESTIONS}, or as many as --question names)",
    )
    run.add_argument("--track", action="append", choices=TRACKS)
    run.add_argument("--role", choices=ROLES, default="ml-engineer")
    run.add_argument("--company-type", choices=COMPANY_TYPES, default="big-tech")
    run.add_argument("--difficulty", choices=DIFFICULTIES)
    run.add_argument(
        "--followups", type=_whole(*FOLLOWUPS), help="follow-ups per question (default 2)"
    )
    run.add_argument("--feedback", choices=("each", "end"), default="end")
    run.add_argument("--seed", type=_whole(*SEEDS), help="make the question choice reproducible")
    run.add_argument(
        "--continue", dest="continue_id", metavar="ID", help="continue an unfinished interview"
    )
    run.add_argument(
        "--bullet", action="append", metavar="TEXT", help="a CV line to deep-dive (repeatable)"
    )
    run.add_argument("--cv", metavar="FILE", help="a file of CV lines to deep-dive, one a line")
    run.add_argument(
        "--question",
        action="append",
        metavar="ID",
        help="a bank question to ask first, as the Practise button does (repeatable)",
    )
    run.add_argument(
        "--job-file",
        metavar="FILE",
        help="a job description: its topics weight the questions, the report says which it covered",
    )
    # The former spellings, from when a CV was a "resume" too.
    run.add_argument("--resume", dest="continue_id", action=_Renamed, new="--continue")
    run.add_argument("--resume-file", dest="cv", action=_Renamed, new="--cv")
    run.set_defaults(func=cmd_run)

    lst = sub.add_parser("list", help="stored transcripts")
    lst.set_defaults(func=cmd_list)

    show = sub.add_parser("show", help="one transcript")
    show.add_argument("id")
    show.add_argument("--format", choices=("md", "json"), default="md")
    show.set_defaults(func=cmd_show)

    grade = sub.add_parser(
        "grade", help="grade one answer, or a JSONL batch", parents=[profile_opt]
    )
    grade.add_argument("--question")
    grade.add_argument("--answer")
    grade.add_argument("--batch", metavar="FILE.jsonl")
    grade.add_argument("--json", action="store_true")
    grade.set_defaults(func=cmd_grade)

    rubrics = sub.add_parser("rubrics", help="the question bank")
    rsub = rubrics.add_subparsers(dest="rubrics_command", required=True, parser_class=_Parser)
    check = rsub.add_parser("check", help="validate the bank and show coverage")
    check.set_defaults(func=cmd_rubrics_check)

    calibrate = sub.add_parser(
        "calibrate", help="agreement of grades with labelled answers", parents=[profile_opt]
    )
    calibrate.add_argument(
        "--split", choices=("dev", "heldout", "heldout-questions", "all"), default="all"
    )
    calibrate.add_argument("--json", action="store_true")
    calibrate.set_defaults(func=cmd_calibrate)

    doctor = sub.add_parser(
        "doctor",
        help="check the configured model: reachable, auth, latency, streaming, JSON",
        parents=[profile_opt],
    )
    doctor.add_argument("--json", action="store_true")
    doctor.set_defaults(func=cmd_doctor)

    regrade = sub.add_parser(
        "regrade", help="grade a stored interview again with another profile", parents=[profile_opt]
    )
    regrade.add_argument("id")
    regrade.add_argument("--workers", type=_whole(1), default=8, help="questions graded at once")
    regrade.add_argument("--json", action="store_true")
    regrade.set_defaults(func=cmd_regrade)

    bench = sub.add_parser("bench", help="measure turn latency, LLM overhead and startup")
    bench.add_argument("--json", action="store_true", help="one JSON object instead of a table")
    bench.add_argument(
        "--interviews", type=_whole(1), default=50, help="simulated interviews (>= 1)"
    )
    bench.add_argument("--seed", type=_whole(*SEEDS), help="seed for the scripted candidates")
    bench.add_argument(
        "--scale",
        action="store_true",
        help="measure capacity instead: turns a second with 1, 10 and 50 candidates sharing one "
        "process, turn times at half that load, storage per interview and app memory per "
        "browser session, on local files and on PostgreSQL (takes minutes)",
    )
    bench.add_argument(
        "--database-url",
        metavar="URL",
        help="with --scale: the PostgreSQL server to measure (a fresh database is made there and "
        "dropped); default: a throwaway server from Debian's binaries",
    )
    bench.add_argument(
        "--turns", type=_whole(10), help="with --scale: turns in each measurement (default 1000)"
    )
    bench.add_argument(
        "--browser-sessions",
        type=_whole(0),
        help="with --scale: browser sessions opened for the memory figure (default 5; 0 skips it)",
    )
    bench.set_defaults(func=cmd_bench)

    gc = sub.add_parser(
        "gc", help="prune stored interview states to what resuming and regrading need"
    )
    gc.set_defaults(func=cmd_gc)

    migrate = sub.add_parser(
        "migrate",
        help="copy the interviews kept in local files into the database (database_url)",
        description="Copy every interview in the transcripts folder (transcript, latest state "
        "and regrades) into the PostgreSQL database named by database_url or "
        "INTERVIEWER_DATABASE_URL. Safe to run again: interviews already copied are skipped.",
    )
    migrate.add_argument(
        "--owner",
        metavar="EMAIL",
        help="make the copied interviews that have no owner this signed-in user's",
    )
    migrate.set_defaults(func=cmd_migrate)

    ui = sub.add_parser(
        "ui",
        help="the browser app; Streamlit options pass through (e.g. --server.port 8502)",
        description="Start the browser app. Streamlit `run` options (--server.port 8502, "
        "--server.address 0.0.0.0, ...) pass through and override the app's own settings.",
        parents=[profile_opt],
    )
    ui.set_defaults(func=cmd_ui)
    return parser


class _PrintableFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record))


def _log_to_stderr() -> None:
    """Warnings (a model that failed, say) to stderr, as printable as everything else."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(_PrintableFormatter("interviewer: %(levelname)s: %(message)s"))
        handler.setLevel(logging.WARNING)
        root.addHandler(handler)


def main(argv: Sequence[str] | None = None) -> int:
    _log_to_stderr()
    try:
        parser = build_parser()
        args, unknown = parser.parse_known_args(argv)
        if unknown and args.command != "ui":  # only the app takes options it does not know
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.streamlit_options = unknown
        settings = load_settings().with_profile(args.profile)
        return args.func(args, settings)
    except (CliError, InterviewError, RubricError, TranscriptError, ValueError) as exc:
        _err(f"interviewer: error: {exc}")
        return 2
    except StorageError as exc:
        _err(f"interviewer: error: {exc}")
        return 1
    except Interrupted as exc:
        _err(f"\ninterviewer: interrupted; continue with `{exc}`")
        return 130
    except KeyboardInterrupt:
        _err("\ninterviewer: interrupted")
        return 130
    except BrokenPipeError:
        # The reader went away (`interviewer calibrate | head`): stop quietly, as other tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    raise SystemExit(main())

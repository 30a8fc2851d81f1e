"""The hiring verdict an interview ends with: strong hire, hire, lean no hire or no hire, for the
role, level and company type chosen, with the reasons that decided it (each tied to the
candidate's own words) and what would change it.

The rule, written once here and in the README: the bar is the overall score a hire needs at the
level held (junior 60, mid 65, senior 70); strong hire needs the bar + 15 with no question below
35 (partial) and no known misconception stated; lean no hire is within 20 of the bar; below that,
no hire. Skipped questions count as 0.
"""

from __future__ import annotations

from typing import Literal

from agent.grading.rubrics import MISSED_AT_OR_BELOW

Verdict = Literal["strong hire", "hire", "lean no hire", "no hire"]

HIRE_BAR = {"junior": 60, "mid": 65, "senior": 70}
STRONG_MARGIN = 15
LEAN_MARGIN = 20
WEAK_QUESTION = 35  # a question below this keeps a verdict from "strong hire"
_QUOTE_CHARS = 140

ROLE_NAMES = {"ml-engineer": "ML engineer", "ai-engineer": "AI engineer"}
COMPANY_NAMES = {"startup": "an AI startup", "big-tech": "Big Tech", "enterprise": "an enterprise"}


def whole(score: float) -> int:
    """The one rounding rule for a score a person reads: half up, to a whole number."""
    return int(score + 0.5)


def level_held(grades: list[dict], chosen: str | None) -> str:
    """The level the verdict holds the candidate to: the one chosen, else the level the
    questions settled at (see `settled_level`)."""
    if chosen in HIRE_BAR:
        return chosen
    return settled_level(grades)


def settled_level(grades: list[dict]) -> str:
    """The level the questions settled at as the interview adapted to the candidate: the most
    common one (the middle one on a tie)."""
    levels = [g.get("difficulty") for g in grades if g.get("difficulty") in HIRE_BAR]
    if not levels:
        return "mid"
    return max(HIRE_BAR, key=lambda lv: (levels.count(lv), lv == "mid"))


def decide(overall: float, grades: list[dict], level: str) -> Verdict:
    bar = HIRE_BAR[level]
    wrong = any(g.get("claims") for g in grades)
    weak = any(g["score"] < WEAK_QUESTION for g in grades)
    if overall >= bar + STRONG_MARGIN and not wrong and not weak:
        return "strong hire"
    if overall >= bar:
        return "hire"
    if overall >= bar - LEAN_MARGIN:
        return "lean no hire"
    return "no hire"


def build_verdict(overall: float, grades: list[dict], settings: dict) -> dict:
    """The verdict with its reasons, what would change it and which brain graded."""
    level = level_held(grades, settings.get("difficulty"))
    verdict = decide(overall, grades, level)
    brains = sorted({g.get("brain", "offline") for g in grades}) or ["offline"]
    offline = brains == ["offline"]
    return {
        "verdict": verdict,
        "level": level,
        "level_held": settled_level(grades),
        "for": _for_whom(settings, level),
        "bar": HIRE_BAR[level],
        "reasons": _reasons(grades)[:3],
        "to_change": _to_change(verdict, overall, grades, level),
        "graded_by": ", ".join(brains),
        "indicative": offline,
        "caveat": (
            "Graded by the offline rubric engine, which matches concepts, not meaning: this "
            "verdict is indicative. A regrade with a model judges meaning."
            if offline
            else "Graded by a model; quotes were checked against your answers."
        ),
    }


def _for_whom(settings: dict, level: str) -> str:
    role = ROLE_NAMES.get(settings.get("role", ""), "engineer")
    company = COMPANY_NAMES.get(settings.get("company_type", ""), "a company")
    return f"a {level} {role} at {company}"


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _QUOTE_CHARS else text[: _QUOTE_CHARS - 3].rstrip() + "..."


def _reason(kind: str, grade: dict, text: str, evidence: str = "") -> dict:
    return {
        "kind": kind,
        "question_id": grade["question_id"],
        "text": text,
        "evidence": _quote(evidence),
    }


def _reasons(grades: list[dict]) -> list[dict]:
    """What decided it, each with the words that show it: a stated or corrected wrong claim
    first, a harder question answered well, skips, then the weakest and the strongest answer."""
    found = [
        _claim_reason(grades),
        _stretch_reason(grades),
        _skip_reason(grades),
        *_answer_reasons([g for g in grades if "skipped" not in g.get("flags", [])]),
    ]
    return [r for r in found if r is not None]


def _claim_reason(grades: list[dict]) -> dict | None:
    for g in grades:
        if g.get("claims"):
            claim = g["claims"][0]
            text = f"Stated a known misconception: {claim['claim']}"
            return _reason("wrong claim", g, text, claim["quote"])
    for g in grades:
        corrected = [c for c in g.get("challenges") or [] if c.get("outcome") == "corrected"]
        if corrected:
            text = f"Corrected a wrong claim when challenged: {corrected[0]['claim']}"
            return _reason("corrected", g, text, corrected[0].get("reply", ""))
    return None


def _stretch_reason(grades: list[dict]) -> dict | None:
    for g in grades:
        strong = [s for s in g.get("stretch") or [] if s.get("strong")]
        if strong:
            text = f"Answered a harder stretch question well: {strong[0]['probe']}"
            return _reason("raised the bar", g, text, strong[0]["answer"])
    return None


def _skip_reason(grades: list[dict]) -> dict | None:
    skipped = [g for g in grades if "skipped" in g.get("flags", [])]
    if not skipped:
        return None
    return _reason("skipped", skipped[0], f"Skipped {len(skipped)} question(s), counted as 0.")


def _answer_reasons(answered: list[dict]) -> list[dict | None]:
    if not answered:
        return []
    weakest = min(answered, key=lambda g: g["score"])
    missed = [c for c in weakest["criteria"] if c["score"] <= MISSED_AT_OR_BELOW]
    gap = None
    if weakest["score"] < 60 and missed:
        gaps = ", ".join(m for c in missed[:2] for m in c["missing"][:1])
        text = f"Weakest answer ({whole(weakest['score'])}/100) left out: {gaps}."
        gap = _reason("gap", weakest, text, weakest.get("answer", ""))
    strongest = max(answered, key=lambda g: g["score"])
    best = max(strongest["criteria"], key=lambda c: c["score"], default=None)
    strength = None
    if strongest["score"] >= 60 and best and best["evidence"]:
        text = f"Strongest answer ({whole(strongest['score'])}/100)."
        strength = _reason("strength", strongest, text, best["evidence"][0])
    return [gap, strength]


def _to_change(verdict: Verdict, overall: float, grades: list[dict], level: str) -> str:
    bar = HIRE_BAR[level]
    if verdict == "strong hire":
        return "It holds as long as answers stay this complete and free of wrong claims."
    target, name = (bar + STRONG_MARGIN, "strong hire") if verdict == "hire" else (bar, "hire")
    needed = max(0, whole(target - overall))
    now = whole(overall)
    text = f"{name.capitalize()} needs an overall of {target} (now {now}, {needed} short)"
    if verdict == "hire":
        blockers = []
        if any(g.get("claims") for g in grades):
            blockers.append("no wrong claims")
        if any(g["score"] < WEAK_QUESTION for g in grades):
            blockers.append(f"no answer below {WEAK_QUESTION}")
        if blockers:
            text += " and " + " and ".join(blockers)
    return text + "."

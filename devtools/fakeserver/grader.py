"""Scripted model output: grading replies as a model writes them, and a responder that grades
any request plausibly from the JSON schema it asks for."""

from __future__ import annotations

import functools
import json
import re
import string

from devtools.fakeserver.server import Recorded, Reply, Responder, is_schema


def grade_reply(
    criteria: dict[str, tuple[int, list[str]]],
    *,
    feedback: str = "Clear answer; say more about the trade-offs.",
    followup_criterion: str | None = None,
    followup: str | None = None,
    off_topic: bool = False,
    missing: list[str] | None = None,
) -> str:
    """A grading reply as a model would write it: criterion id -> (score, evidence quotes)."""
    return json.dumps(
        {
            "criteria": {
                cid: {"evidence": quotes, "score": score, "missing": list(missing or [])}
                for cid, (score, quotes) in criteria.items()
            },
            "off_topic": off_topic,
            "feedback": feedback,
            "followup_criterion": followup_criterion,
            "followup": followup,
        }
    )


def criterion_ids(schema: dict) -> list[str]:
    """The criterion ids a grading schema fixes, in the rubric's order; [] for other schemas."""
    criteria = schema["properties"].get("criteria")
    return list(criteria.get("properties", {})) if is_schema(criteria) else []


_SCALARS: dict[str, object] = {"string": "ok", "integer": 3, "number": 3, "boolean": False}


def instance_of(schema: dict) -> object:
    """A value matching `schema`, within the subset our schemas use."""
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return instance_of(schema["anyOf"][0])
    if schema.get("type") == "object":
        return {k: instance_of(v) for k, v in schema.get("properties", {}).items()}
    if schema.get("type") == "array":
        return []
    return _SCALARS.get(schema.get("type", "null"))


@functools.cache
def _template_pattern(template: str) -> re.Pattern[str]:
    parts, named, pos = [], set(), 0
    for found in string.Template.pattern.finditer(template):
        parts.append(re.escape(template[pos : found.start()]))
        name = found.group("named") or found.group("braced")
        if name is None:  # "$$" or an invalid placeholder: literal text
            parts.append(re.escape(found.group(0)[:1]))
        elif name in named:
            parts.append(f"(?P={name})")
        else:
            named.add(name)
            parts.append(f"(?P<{name}>.*?)")
        pos = found.end()
    parts.append(re.escape(template[pos:]))
    return re.compile("".join(parts), re.DOTALL)


def template_values(template: str, text: str) -> dict[str, str] | None:
    """The values `template` (a `string.Template`) was filled with to write `text`, or None when
    `text` was not written from it. Reading a prompt through the template that wrote it, a fake
    model follows any rewording of the prompt."""
    found = _template_pattern(template).fullmatch(text)
    return found.groupdict() if found else None


def grading_prompt(request: Recorded) -> dict[str, str] | None:
    """The values of the grading request's user prompt (`answer`, `probed`, ...), read through
    `agent.grading.prompts.GRADER_USER` as it is when the request arrives."""
    from agent.grading import prompts

    for content in request.contents:
        if (values := template_values(prompts.GRADER_USER, content)) is not None:
            return values
    return None


def answer_of(request: Recorded) -> str:
    """The candidate's answer as fenced in a grading request."""
    return (grading_prompt(request) or {}).get("answer", "")


def echo_grader(score: int = 2, probe: bool = True) -> Responder:
    """A responder that grades any answer plausibly: each criterion the request's schema names
    `score`, quoting the answer's first words, and probing the first criterion not yet probed.
    A request with another schema gets a value of that schema; one without, "ready"."""

    def respond(request: Recorded) -> Reply:
        schema = request.schema
        if schema is None:
            return Reply(content="ready")
        ids = criterion_ids(schema)
        if not ids:
            return Reply(content=json.dumps(instance_of(schema)))
        prompt = grading_prompt(request)
        if prompt is None:
            return Reply(status=500, error="fake grader: no message is a filled GRADER_USER")
        probed = {p.strip() for p in prompt["probed"].split(",")}
        quote = " ".join(prompt["answer"].split()[:6])
        todo = [i for i in ids if i not in probed] if probe else []
        content = grade_reply(
            {cid: (score, [quote]) for cid in ids},
            followup_criterion=todo[0] if todo else None,
            followup=f"Could you go deeper on {todo[0]}, and say how you would check it?"
            if todo
            else None,
        )
        return Reply(content=content)

    return respond

"""Full interviews through the real graph, SQLite checkpointer and transcript files."""

import json

import pytest

from agent.grading.assessment import Assessment, CriterionGrade
from agent.grading.rubrics import Bank
from agent.interview.interviewer import Interviewer, InterviewError, interview_options
from agent.interview.nodes import Said, message_id
from agent.storage.transcripts import Transcript

from .test_engine import STRONG_LATENCY

WEAK_LATENCY = "I'd make the model smaller with quantization."


@pytest.fixture
def latency_bank(bank) -> Bank:
    """Just the two seed questions on one track, so plans are known."""
    return Bank([bank.get("seed-inference-latency"), bank.get("seed-research-vs-production")])


def options(**kw):
    base = dict(questions=2, max_followups=2, seed=7, role="ml-engineer", company_type="big-tech")
    base.update(kw)
    return interview_options(**base)


def kinds(messages):
    return [m["kind"] for m in messages]


def moves_on(question_id: str) -> Assessment:
    grade = CriterionGrade(id="c", score=3, max_score=3, evidence=["x"])
    # below the stretch bar (STRETCH_FROM), so the interviewer moves on
    return Assessment(question_id=question_id, score=70, criteria=[grade], feedback="ok")


def test_complete_scripted_interview_writes_valid_transcript(settings, bank, scripted):
    with Interviewer(settings, provider=scripted, bank=bank) as iv:
        start = iv.start(options())
        plan = iv.state(start.interview_id)["plan"]
        scripted.enqueue(moves_on(plan[0]), moves_on(plan[1]))
        first = iv.reply(start.interview_id, "answer one")
        second = iv.reply(start.interview_id, "answer two")
    assert kinds(first.messages) == ["question"]
    assert second.finished and kinds(second.messages) == ["report"]
    assert [c[1] for c in scripted.calls] == ["answer one", "answer two"]
    path = settings.transcripts_dir / f"{start.interview_id}.json"
    transcript = Transcript.model_validate(json.loads(path.read_text()))
    assert transcript.status == "finished"
    assert transcript.brain == "scripted"
    assert [g.question_id for g in transcript.grades] == plan
    assert transcript.report["questions_answered"] == 2
    candidate = [t.text for t in transcript.turns if t.role == "candidate"]
    assert candidate == ["answer one", "answer two"]
    assert all(t.latency_ms is not None for t in transcript.turns if t.role == "candidate")


def test_weak_answer_gets_followup_on_uncovered_criterion(settings, latency_bank):
    with Interviewer(settings, bank=latency_bank) as iv:
        start = iv.start(options(questions=1, tracks=["mlops"]))
        result = iv.reply(start.interview_id, WEAK_LATENCY)
        state = iv.state(start.interview_id)
    assert kinds(result.messages) == ["probe"]
    target = state["current"]["probed"][0]
    scores = {c["id"]: c["score"] for c in state["assessment"]["criteria"]}
    assert scores[target] == 0
    question = latency_bank.get("seed-inference-latency")
    assert result.messages[0]["text"] == question.criterion(target).probe


def test_strong_answer_gets_a_stretch_probe_then_moves_on(settings, latency_bank):
    question = latency_bank.get("seed-inference-latency")
    with Interviewer(settings, bank=latency_bank) as iv:
        start = iv.start(
            options(questions=2, max_followups=1, tracks=["mlops", "ml-system-design"])
        )
        assert start.messages[0]["question_id"] == question.id
        raised = iv.reply(start.interview_id, STRONG_LATENCY)
        moved = iv.reply(start.interview_id, STRONG_LATENCY)
        grade = iv.state(start.interview_id)["grades"][0]
    assert kinds(raised.messages) == ["stretch"]
    text = raised.messages[0]["text"]
    assert text.startswith("Good. Let me raise the bar: ")
    assert text.removeprefix("Good. Let me raise the bar: ") == " ".join(
        question.stretch[0].split()
    )
    assert kinds(moved.messages) == ["question"]
    assert moved.messages[0]["question_id"] == "seed-research-vs-production"
    (stretch,) = grade["stretch"]
    assert stretch["answer"] == STRONG_LATENCY and stretch["strong"] is True


def test_a_wrong_claim_is_challenged_in_the_candidates_words_and_a_correction_recovers_credit(
    settings, latency_bank
):
    wrong = (
        "I'd measure p99 latency, because the mean hides slow requests. "
        "Quantization is lossless, so there is no need to re-check accuracy."
    )
    with Interviewer(settings, bank=latency_bank) as iv:
        start = iv.start(options(questions=1, max_followups=2, tracks=["mlops"]))
        challenged = iv.reply(start.interview_id, wrong)
        state = iv.state(start.interview_id)
        corrected = iv.reply(
            start.interview_id,
            "You're right, I was wrong: int8 quantization can cost accuracy, so I would "
            "compare it against the full-precision model on a held-out set before shipping.",
        )
        iv.reply(start.interview_id, "end")
        grade = iv.state(start.interview_id)["grades"][0]
    assert kinds(challenged.messages) == ["challenge"]
    assert challenged.messages[0]["text"].startswith(
        'You said: "Quantization is lossless, so there is no need to re-check accuracy." '
    )
    assert state["current"]["challenges"][0]["outcome"] == "pending"
    assert kinds(corrected.messages) != ["challenge"]
    (challenge,) = grade["challenges"]
    assert challenge["outcome"] == "corrected"
    assert "misconception" not in grade["flags"], "the corrected sentence is no longer graded"
    assert grade["score"] <= 70


def test_a_repeated_wrong_claim_keeps_its_cap(settings, latency_bank):
    wrong = "Quantization is lossless, so there is no need to re-check accuracy."
    with Interviewer(settings, bank=latency_bank) as iv:
        start = iv.start(options(questions=1, max_followups=1, tracks=["mlops"]))
        iv.reply(start.interview_id, wrong)
        iv.reply(start.interview_id, "Yes. Quantization is lossless, I am sure of it.")
        grade = iv.state(start.interview_id)["grades"][0]
    (challenge,) = grade["challenges"]
    assert challenge["outcome"] == "repeated"
    assert "misconception" in grade["flags"] and grade["score"] <= 20


def test_followup_bound_holds(settings, latency_bank):
    with Interviewer(settings, bank=latency_bank) as iv:
        start = iv.start(
            options(questions=2, max_followups=2, tracks=["mlops", "ml-system-design"])
        )
        iid = start.interview_id
        replies = [iv.reply(iid, WEAK_LATENCY) for _ in range(3)]
        grades = iv.state(iid)["grades"]
    assert [kinds(r.messages) for r in replies] == [["probe"], ["probe"], ["question"]]
    assert grades[0]["followups"] == 2


def test_zero_followups_moves_straight_on(settings, latency_bank):
    with Interviewer(settings, bank=latency_bank) as iv:
        start = iv.start(options(max_followups=0, tracks=["mlops", "ml-system-design"]))
        result = iv.reply(start.interview_id, WEAK_LATENCY)
    assert kinds(result.messages) == ["question"]


def test_hint_repeat_skip_and_end_go_through_the_graph(settings, latency_bank):
    question = latency_bank.get("seed-inference-latency")
    with Interviewer(settings, bank=latency_bank) as iv:
        start = iv.start(options(tracks=["mlops", "ml-system-design"], feedback="each"))
        iid = start.interview_id
        hint = iv.reply(iid, "hint")
        repeat = iv.reply(iid, "/repeat")
        skip = iv.reply(iid, "skip")
        end = iv.reply(iid, "end")
        state = iv.state(iid)
    assert kinds(hint.messages) == ["hint"] and question.hint in hint.messages[0]["text"]
    assert kinds(repeat.messages) == ["repeat"]
    assert repeat.messages[0]["text"] == start.messages[0]["text"]
    assert kinds(skip.messages) == ["feedback", "question"]
    assert end.finished and kinds(end.messages) == ["report"]
    assert [g["question_id"] for g in state["grades"]] == ["seed-inference-latency"]
    assert state["grades"][0]["flags"] == ["skipped"] and state["grades"][0]["score"] == 0
    assert state["grades"][0]["hints"] == 1


def test_end_after_partial_answer_grades_it(settings, latency_bank):
    with Interviewer(settings, bank=latency_bank) as iv:
        start = iv.start(options(tracks=["mlops", "ml-system-design"]))
        iv.reply(start.interview_id, WEAK_LATENCY)
        end = iv.reply(start.interview_id, "end")
        state = iv.state(start.interview_id)
    assert end.finished
    assert len(state["grades"]) == 1 and state["grades"][0]["score"] > 0


def test_non_answer_gets_a_hint_then_moves_on(settings, latency_bank):
    with Interviewer(settings, bank=latency_bank) as iv:
        start = iv.start(options(tracks=["mlops", "ml-system-design"]))
        first = iv.reply(start.interview_id, "I don't know")
        second = iv.reply(start.interview_id, "no idea")
        grades = iv.state(start.interview_id)["grades"]
    assert kinds(first.messages) == ["hint"]
    assert kinds(second.messages) == ["question"]
    assert grades[0]["score"] == 0 and "non-answer" in grades[0]["flags"]


def test_interview_resumes_after_graph_is_rebuilt(any_settings, latency_bank):
    with Interviewer(any_settings, bank=latency_bank) as iv:
        start = iv.start(options(tracks=["mlops", "ml-system-design"]))
        iv.reply(start.interview_id, WEAK_LATENCY)
    with Interviewer(any_settings, bank=latency_bank) as again:
        assert again.waiting_prompt(start.interview_id)
        again.reply(start.interview_id, "skip")
        end = again.reply(start.interview_id, "end")
        saved = again.store.load(start.interview_id)
    assert end.finished
    candidate = [t.text for t in saved.turns if t.role == "candidate"]
    assert candidate == [WEAK_LATENCY, "skip", "end"]


def test_every_message_is_named_by_its_place_and_heard_once_under_that_id(settings, latency_bank):
    heard: list[Said] = []
    with Interviewer(settings, bank=latency_bank) as iv:
        iid = iv.start(options(feedback="each"), on_said=heard.append).interview_id
        for text in (WEAK_LATENCY, "hint", "skip", "end"):
            iv.reply(iid, text, on_said=heard.append)
        messages = iv.state(iid)["messages"]
        saved = iv.store.load(iid)
    assert [m["id"] for m in messages] == [message_id(i) for i in range(len(messages))]
    said = [m for m in messages if m["role"] == "interviewer"]
    assert heard == [Said(m["id"], m["text"], final=True) for m in said], "no drafts offline"
    assert [t.id for t in saved.turns] == [m["id"] for m in messages]


def test_a_message_said_again_after_a_crash_keeps_its_id(any_settings, latency_bank):
    shown: list[Said] = []

    def die(said: Said) -> None:
        shown.append(said)
        raise KeyboardInterrupt  # the process dies right after the words were shown

    with Interviewer(any_settings, bank=latency_bank) as iv:
        iid = "20990101-000000-abcdef"
        with pytest.raises(KeyboardInterrupt):
            iv.start(options(), interview_id=iid, on_said=die)
    heard: list[Said] = []
    with Interviewer(any_settings, bank=latency_bank) as iv:
        recovered = iv.recover(iid, on_said=heard.append)
    question = recovered.messages[0]
    assert question["kind"] == "question" and question["id"] == message_id(0)
    assert heard == shown == [Said(message_id(0), question["text"], final=True)]


def test_reply_to_finished_or_unknown_interview_is_refused(any_settings, latency_bank):
    with Interviewer(any_settings, bank=latency_bank) as iv:
        start = iv.start(options(questions=1, tracks=["mlops"]))
        iv.reply(start.interview_id, "end")
        with pytest.raises(InterviewError, match="finished"):
            iv.reply(start.interview_id, "more")
        with pytest.raises(InterviewError, match="no interview"):
            iv.reply("20990101-000000-abcdef", "hello")


def test_bad_settings_are_refused_with_the_field_named():
    with pytest.raises(InterviewError, match="role"):
        interview_options(role="astronaut")
    with pytest.raises(InterviewError, match="track"):
        interview_options(tracks=["cooking"])
    with pytest.raises(InterviewError, match="questions"):
        interview_options(questions=0)


def test_company_type_shifts_question_choice(bank):
    from agent.interview.planner import select_questions

    def tracks(company: str) -> list[str]:
        ids = select_questions(bank, role="ml-engineer", company_type=company, count=2, seed=1)
        return [bank.get(i).track for i in ids]

    assert "enterprise-ai" in tracks("enterprise")
    assert "ml-system-design" in tracks("big-tech")


def test_the_next_question_follows_the_candidates_level(settings, bank):
    """After a weak answer the next bank question moves one level down, within one level of
    the level chosen; the swapped-in question is stored with the interview."""
    mlops = Bank([q for q in bank.questions if q.track == "mlops"])
    with Interviewer(settings, bank=mlops) as iv:
        start = iv.start(
            options(questions=2, max_followups=0, tracks=["mlops"], difficulty="mid", seed=5)
        )
        planned = iv.state(start.interview_id)["plan"]
        assert [mlops.get(q).difficulty for q in planned] == ["mid", "mid"]
        iv.reply(start.interview_id, "We used a tool for that.")
        state = iv.state(start.interview_id)
    assert state["grades"][-1]["score"] <= 40
    nxt = mlops.get(state["plan"][1])
    assert nxt.id != planned[1] and nxt.difficulty == "junior"
    assert nxt.id in {q["id"] for q in state["questions"]}

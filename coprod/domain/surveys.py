"""Feedback surveys as rules: the templates a lead starts from, the limits on a survey's
questions, checking one person's answers, the results with small counts hidden, and each team's
count towards its targets of 10 patients and 10 carers a review period."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from coprod.domain.reporting import SUPPRESS_BELOW, suppress, suppress_with_total
from coprod.validation import Checker

AUDIENCES = ("patients", "carers", "representatives")
STAGES = ("start", "end", "ask")
JOURNEY_STAGES = ("start", "end")
KINDS = ("choice", "rating", "text")
SOURCES = ("web", "paper")

AUDIENCE_LABELS = {
    "patients": "Patients",
    "carers": "Carers",
    "representatives": "Representatives, after an activity",
}
STAGE_LABELS = {
    "start": "At the start of their time with the team",
    "end": "At the end of their time with the team",
    "ask": "The form asks them",
}
KIND_LABELS = {"choice": "Choose one answer", "rating": "A score from 1 to 5", "text": "Own words"}
# Plain words for each score, so a rating reads the same on the web and on paper.
RATING_LABELS = {1: "Very bad", 2: "Bad", 3: "OK", 4: "Good", 5: "Very good"}
JOURNEY_QUESTION = "Are you just starting with the team, or finishing?"
JOURNEY_LABELS = {"start": "Just starting", "end": "Finishing"}

MAX_QUESTIONS = 12
MIN_CHOICES, MAX_CHOICES = 2, 8
MAX_TITLE = 200
MAX_INTRODUCTION = 2000
MAX_PROMPT = 300
MAX_CHOICE = 100
MAX_TEXT_ANSWER = 2000
MAX_CONTACT = 200
TARGET = 10  # answers from patients, and from carers, each review period

FIXED_AFTER_OPENING = (
    "The questions cannot change once the survey has opened, so that every answer means the "
    "same thing. Start a new survey to ask something different"
)


@dataclass(frozen=True)
class QuestionSpec:
    kind: str
    prompt: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Template:
    key: str
    name: str  # what the lead picks
    title: str
    audience: str
    stage: str
    introduction: str
    questions: tuple[QuestionSpec, ...]


YES_NO_NOT_SURE = ("Yes", "No", "Not sure")

# Written with patient and carer representatives: short questions, everyday words, one idea each.
TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        Template(
            "patients_start",
            "Patients, at the start",
            "Starting with our team",
            "patients",
            "start",
            "We want to know how your first days with us went. It takes about 2 minutes. "
            "You do not have to give your name.",
            (
                QuestionSpec("rating", "How was your first contact with us?"),
                QuestionSpec("choice", "Did we explain what happens next?", YES_NO_NOT_SURE),
                QuestionSpec("choice", "Did you feel listened to?", YES_NO_NOT_SURE),
                QuestionSpec("choice", "Do you know how to reach us?", YES_NO_NOT_SURE),
                QuestionSpec("text", "What could we do better?"),
            ),
        ),
        Template(
            "patients_end",
            "Patients, at the end",
            "Finishing with our team",
            "patients",
            "end",
            "You are finishing your time with us. Please tell us how it went. It takes about "
            "2 minutes. You do not have to give your name.",
            (
                QuestionSpec("rating", "How was your time with us?"),
                QuestionSpec("choice", "Did you feel listened to?", YES_NO_NOT_SURE),
                QuestionSpec(
                    "choice", "Did you have a say in your care?", ("Yes", "Some of the time", "No")
                ),
                QuestionSpec(
                    "choice", "Do you know who to call if things get hard?", ("Yes", "No")
                ),
                QuestionSpec("text", "What went well?"),
                QuestionSpec("text", "What could we do better?"),
            ),
        ),
        Template(
            "carers",
            "Carers",
            "For carers, family and friends",
            "carers",
            "ask",
            "You help someone we care for. We want to hear from you too. It takes about "
            "2 minutes. You do not have to give your name.",
            (
                QuestionSpec("rating", "How well did we work with you?"),
                QuestionSpec("choice", "Did we listen to you?", YES_NO_NOT_SURE),
                QuestionSpec("choice", "Did we tell you what you needed to know?", YES_NO_NOT_SURE),
                QuestionSpec("choice", "Did we ask how you are doing?", ("Yes", "No")),
                QuestionSpec("text", "What could we do better for carers?"),
            ),
        ),
        Template(
            "representatives",
            "Representatives, after an activity",
            "After you took part",
            "representatives",
            "end",
            "Thank you for taking part. Tell us how it went, so we can make it better next time.",
            (
                QuestionSpec("rating", "How did it go?"),
                QuestionSpec("choice", "Did people listen to you?", ("Yes", "Partly", "No")),
                QuestionSpec(
                    "choice", "Did you get the support you needed?", ("Yes", "Partly", "No")
                ),
                QuestionSpec("choice", "Would you take part again?", YES_NO_NOT_SURE),
                QuestionSpec("text", "What should we change?"),
            ),
        ),
    )
}

# ---------------------------------------------------------------------------- questions


def read_choices(raw: Any) -> list[str]:
    """Choices as a JSON list, or one a line as typed into a page's box."""
    if isinstance(raw, list):
        values = [str(v) for v in raw]
    elif raw is None:
        values = []
    else:
        values = str(raw).splitlines()
    return [v.strip() for v in values if v.strip()]


def check_question(data: Mapping[str, Any]) -> QuestionSpec:
    """A question from a form or JSON body, with every field's error at once."""
    c = Checker(data)
    kind = c.choice("kind", "the kind of question", KINDS)
    prompt = c.text("prompt", "the question", max_length=MAX_PROMPT)
    choices: list[str] = []
    if kind == "choice":
        choices = read_choices(data.get("choices"))
        if len(choices) < MIN_CHOICES:
            c.fail("choices", f"Enter at least {MIN_CHOICES} choices, one on each line")
        elif len(choices) > MAX_CHOICES:
            c.fail("choices", f"Enter at most {MAX_CHOICES} choices")
        elif any(len(v) > MAX_CHOICE for v in choices):
            c.fail("choices", f"Each choice must be {MAX_CHOICE} characters or fewer")
        elif len({v.casefold() for v in choices}) < len(choices):
            c.fail("choices", "Each choice must be different")
    c.done()
    return QuestionSpec(kind, prompt, tuple(choices))


def room_for_question(count: int) -> bool:
    return count < MAX_QUESTIONS


def reordered(current: Sequence[int], wanted: Sequence[int]) -> bool:
    """Whether `wanted` names each of the survey's questions exactly once."""
    return sorted(current) == sorted(wanted) and len(set(wanted)) == len(wanted)


def moved(order: Sequence[int], question_id: int, direction: str) -> list[int]:
    """The order with one question moved one place up or down (unchanged at either end)."""
    found = list(order)
    at = found.index(question_id)
    to = at - 1 if direction == "up" else at + 1
    if 0 <= to < len(found):
        found[at], found[to] = found[to], found[at]
    return found


# ---------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Question:
    id: int
    kind: str
    prompt: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    question_id: int
    choice: str | None = None
    rating: int | None = None
    text: str | None = None


@dataclass(frozen=True)
class Answers:
    stage: str | None
    answers: list[Answer]
    contact: dict[str, str] | None


def answer_field(question_id: int) -> str:
    return f"q{question_id}"


def check_answers(
    questions: Sequence[Question], data: Mapping[str, Any], *, survey_stage: str
) -> Answers:
    """One person's answers, keyed `q{id}`. Every question may be left out, but not all of
    them: an empty form is no one's feedback and must not count towards a target. With a
    survey that asks, the stage may be left out too ("not said")."""
    c = Checker(data)
    found: list[Answer] = []
    for q in questions:
        name = answer_field(q.id)
        raw = c.raw(name)
        if not raw:
            continue
        if q.kind == "choice":
            if raw not in q.choices:
                c.fail(name, "Choose one of the answers")
            else:
                found.append(Answer(q.id, choice=raw))
        elif q.kind == "rating":
            if raw not in ("1", "2", "3", "4", "5"):
                c.fail(name, "Choose a score from 1 to 5")
            else:
                found.append(Answer(q.id, rating=int(raw)))
        elif len(raw) > MAX_TEXT_ANSWER:
            c.fail(name, f"Your answer must be {MAX_TEXT_ANSWER} characters or fewer")
        else:
            found.append(Answer(q.id, text=raw))
    stage: str | None = survey_stage
    if survey_stage == "ask":
        raw_stage = c.raw("stage")
        if raw_stage and raw_stage not in JOURNEY_STAGES:
            c.fail("stage", "Choose just starting or finishing")
        stage = raw_stage or None
    name = c.text("contact_name", "your name", required=False, max_length=MAX_CONTACT)
    how = c.text("contact_how", "how to reach you", required=False, max_length=MAX_CONTACT)
    if not found and not c.errors and questions:
        c.fail(answer_field(questions[0].id), "Answer at least one question")
    c.done()
    contact = {"name": name, "how": how} if name or how else None
    return Answers(stage, found, contact)


# ---------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Row:
    label: str
    count: int | None  # None: hidden, because it is small


@dataclass(frozen=True)
class QuestionResult:
    question: Question
    answered: int | None
    rows: list[Row] = field(default_factory=list)
    average: float | None = None
    texts: list[tuple[str, str]] = field(default_factory=list)  # (text, source)


@dataclass(frozen=True)
class Results:
    responses: int
    shown: bool  # per-question figures appear only once enough people have answered
    sources: list[Row]
    stages: list[Row]
    questions: list[QuestionResult]

    @property
    def hides_any(self) -> bool:
        rows = [*self.sources, *self.stages, *(r for q in self.questions for r in q.rows)]
        return any(r.count is None for r in rows) or any(q.answered is None for q in self.questions)


@dataclass(frozen=True)
class GivenAnswer:
    """An answer as stored, with where its response came from."""

    question_id: int
    choice: str | None
    rating: int | None
    text: str | None
    source: str


def _rows(counts: Mapping[str, int], labels: Mapping[str, str]) -> list[Row]:
    """Counts with small ones hidden, and one more hidden when a single hidden count could be
    worked out from the total shown beside them."""
    hidden = suppress_with_total({k: suppress(counts.get(k, 0)) for k in labels})
    return [Row(labels[k], hidden[k]) for k in labels]


def summarise(
    questions: Sequence[Question],
    responses: Sequence[tuple[str, str | None]],  # each response's (source, stage)
    answers: Iterable[GivenAnswer],
) -> Results:
    """A survey's results as staff see them. The number of responses is always shown (it is
    what the targets count). Everything else appears only with at least SUPPRESS_BELOW
    responses, and then any count of 1 to 4 is hidden, with a second one hidden where the total
    would give the first away. A question's average score appears only when none of its score
    counts is hidden, since the average and the total together could give hidden counts away."""
    total = len(responses)
    shown = total >= SUPPRESS_BELOW
    by_question: dict[int, list[GivenAnswer]] = {q.id: [] for q in questions}
    for a in answers:
        by_question.setdefault(a.question_id, []).append(a)
    if not shown:
        return Results(total, False, [], [], [QuestionResult(q, None) for q in questions])
    sources = _rows(Counter(s for s, _ in responses), {"web": "Online", "paper": "On paper"})
    stages = _rows(
        Counter(st or "" for _, st in responses),
        {"start": "Just starting", "end": "Finishing", "": "Did not say"},
    )
    results = []
    for q in questions:
        given = by_question[q.id]
        answered = suppress(len(given))
        if q.kind == "text":
            texts = [(a.text or "", a.source) for a in given if a.text]
            results.append(QuestionResult(q, answered, texts=texts if answered is not None else []))
            continue
        if q.kind == "choice":
            labels = {c: c for c in q.choices}
            counts = Counter(a.choice or "" for a in given)
        else:
            labels = {str(n): f"{n}: {RATING_LABELS[n]}" for n in RATING_LABELS}
            counts = Counter(str(a.rating) for a in given)
        if answered is None:  # every count would be smaller still
            rows = [Row(labels[k], None) for k in labels]
        else:
            rows = _rows(counts, labels)
        average = None
        if q.kind == "rating" and answered and all(r.count is not None for r in rows):
            average = round(sum(a.rating or 0 for a in given) / len(given), 1)
        results.append(QuestionResult(q, answered, rows, average))
    return Results(total, True, sources, stages, results)


# ---------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Progress:
    total: int
    start: int
    end: int
    not_said: int
    target: int = TARGET

    @property
    def met(self) -> bool:
        return self.total >= self.target

    @property
    def still_needed(self) -> int:
        return max(self.target - self.total, 0)


@dataclass(frozen=True)
class Targets:
    patients: Progress
    carers: Progress


def targets(counts: Iterable[tuple[str, str | None, int]]) -> Targets:
    """A team's answers in one review period, as (audience, stage, count) rows, towards 10 from
    patients and 10 from carers. Representatives' answers about activities count towards
    neither. The counts are not hidden: they say how many answered, not who or what."""
    tally: dict[str, Counter[str]] = {"patients": Counter(), "carers": Counter()}
    for audience, stage, count in counts:
        if audience in tally:
            tally[audience][stage or ""] += count
    return Targets(
        *(
            Progress(sum(t.values()), t["start"], t["end"], t[""])
            for t in (tally["patients"], tally["carers"])
        )
    )


def too_late(day: dt.date, today: dt.date) -> bool:
    """A paper form's date cannot be after today."""
    return day > today

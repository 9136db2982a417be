"""Reading a text message that answers a poll invitation: no I/O.

The invitation text numbers the times on offer from 1 and asks for each number with yes, no or
maybe, for example "1 yes 2 no". People write that many ways, so a reply is read leniently in
form and strictly in meaning:

- numbers and answers may run together or be split by commas, full stops and the like:
  "1y 2n", "1 Yes. 2 No", "1 yes, 2 maybe", "1: yes; 2: no";
- several numbers may share one answer: "1 and 3 yes 2 no", "1 2 yes 3 no";
- "all yes", "yes all", "yes to all" (or no, maybe) answer every time listed;
- a bare "yes", "no" or "maybe" answers only when the text listed one time: with more, it does
  not say which;
- "maybe" and "if need be" both record "if need be", the poll's own middle answer;
- a few pleasantries ("thanks", "x") are passed over.

Anything else is unclear, and the lead phones: a word not understood, a number the text did not
list, a number given two different answers, or a time left unanswered. Guessing at someone's
availability would book them for what they did not agree to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from coprod.domain.scheduling import Answer

ANSWER_WORDS: dict[str, Answer] = {
    **dict.fromkeys(("yes", "y", "yeah", "yep", "yup"), Answer.YES),
    **dict.fromkeys(("no", "n", "nope", "nah"), Answer.NO),
    **dict.fromkeys(("maybe", "m", "perhaps", "possibly", "ifneedbe"), Answer.IF_NEED_BE),
}
# Words that say nothing about the times, passed over wherever they come.
PASSED_OVER = frozenset({"and", "thanks", "thank", "you", "thankyou", "ta", "cheers", "x", "xx"})
ALL = "all"

# How each answer reads back in the acknowledgement text.
SAID: dict[Answer, str] = {Answer.YES: "yes", Answer.NO: "no", Answer.IF_NEED_BE: "if need be"}

_PHRASES = (
    (re.compile(r"\bif\s+need\s+be\b"), " ifneedbe "),
    (re.compile(r"\bto\s+all\b"), " all "),
)
_DIGIT_LETTER = re.compile(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)")
_SEPARATORS = re.compile(r"[\s,.;:!?=()\-/&+*#'\"]+")


@dataclass(frozen=True)
class Reading:
    """What a reply said: an answer for each number the text listed (from 1), or why it is
    unclear, in words for the lead."""

    answers: dict[int, Answer] = field(default_factory=dict)
    problem: str | None = None

    @property
    def clear(self) -> bool:
        return self.problem is None


def _unclear(problem: str) -> Reading:
    return Reading({}, problem)


def _words(message: str) -> list[str]:
    text = message.lower()
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    text = _DIGIT_LETTER.sub(" ", text)
    return [w for w in _SEPARATORS.split(text) if w and w not in PASSED_OVER]


def _numbers_list(numbers: list[int]) -> str:
    said = [str(n) for n in numbers]
    return said[0] if len(said) == 1 else f"{', '.join(said[:-1])} and {said[-1]}"


def read_reply(message: str, listed: int) -> Reading:
    """Read a reply to a text that listed `listed` times, numbered 1 to `listed`."""
    words = _words(message)
    if not words:
        return _unclear("The reply had no answer in it")
    every = list(range(1, listed + 1))
    answer_words = [w for w in words if w != ALL]
    if ALL in words:
        if len(words) == 2 and len(answer_words) == 1 and answer_words[0] in ANSWER_WORDS:
            return Reading(dict.fromkeys(every, ANSWER_WORDS[answer_words[0]]))
        return _unclear('The reply said "all" but not clearly which answer')
    if len(words) == 1 and words[0] in ANSWER_WORDS:
        if listed == 1:
            return Reading({1: ANSWER_WORDS[words[0]]})
        return _unclear("The reply did not say which times its answer was for")

    answers: dict[int, Answer] = {}
    waiting: list[int] = []  # numbers read, waiting for the answer that follows them
    for word in words:
        if word.isascii() and word.isdigit():
            number = int(word) if len(word) < 4 else 0
            if not 1 <= number <= listed:
                return _unclear(f"The reply answered {word}, but the text listed 1 to {listed}")
            waiting.append(number)
        elif word in ANSWER_WORDS:
            if not waiting:
                return _unclear(f'The reply said "{word}" without a number before it')
            answer = ANSWER_WORDS[word]
            for number in waiting:
                if answers.get(number, answer) != answer:
                    return _unclear(f"The reply gave {number} two different answers")
                answers[number] = answer
            waiting = []
        else:
            return _unclear(f'The reply had words we could not read: "{word}"')
    if waiting:
        return _unclear(f"The reply gave no answer for {_numbers_list(waiting)}")
    missing = [n for n in every if n not in answers]
    if missing:
        return _unclear(f"The reply said nothing about {_numbers_list(missing)}")
    return Reading(dict(sorted(answers.items())))

"""The conversation: chat bubbles, streamed interviewer replies, inert candidate text.

Every message body goes through `st.text`, which renders no Markdown and no HTML, so an answer
containing `<script>`, a Markdown table or `$math$` shows exactly as typed. (`st.write_stream`
renders Markdown, so replies are streamed into an `st.text` placeholder instead.)
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from agent.grading.screen import command_of
from agent.interview.nodes import Said

INTERVIEWER_AVATAR = ":material/record_voice_over:"
CANDIDATE_AVATAR = ":material/person:"

# Labels for the kinds of message whose text does not already say what it is.
KIND_LABELS = {"probe": "Follow-up", "repeat": "Repeated", "report": "Summary", "note": "Note"}
COMMAND_LABELS = {
    "hint": "Asked for a hint",
    "repeat": "Asked to repeat the question",
    "skip": "Skipped the question",
    "end": "Ended the interview",
}

# Streaming pace: quick enough not to keep anyone waiting, slow enough to read as speech.
WORD_DELAY_S = 0.02
MAX_STREAM_S = 1.5


def word_chunks(text: str) -> list[str]:
    """The text as word-plus-following-whitespace chunks that join back to the original."""
    lead = re.match(r"\s*", text).group(0)
    chunks = re.findall(r"\S+\s*", text)
    if chunks and lead:
        chunks[0] = lead + chunks[0]
    return chunks or [text]


def stream_text(text: str) -> None:
    """Reveal the text word by word, as inert text."""
    slot = st.empty()
    chunks = word_chunks(text)
    delay = min(WORD_DELAY_S, MAX_STREAM_S / max(len(chunks), 1))
    shown = ""
    for chunk in chunks:
        shown += chunk
        slot.text(shown + "▌")
        time.sleep(delay)
    slot.text(text)


def show_message(message: Mapping, *, stream: bool = False) -> None:
    """One turn of the conversation as a chat bubble."""
    text = str(message.get("text", ""))
    kind = str(message.get("kind", ""))
    if message.get("role") == "candidate":
        with st.chat_message("user", avatar=CANDIDATE_AVATAR):
            command = command_of(text) if kind == "command" else None
            if command:
                st.caption(COMMAND_LABELS.get(command, "Command"))
            else:
                st.text(text)
        return
    with st.chat_message("assistant", avatar=INTERVIEWER_AVATAR):
        label = KIND_LABELS.get(kind)
        if label:
            st.caption(label)
        if stream:
            stream_text(text)
        else:
            st.text(text)


class LiveReply:
    """The interviewer's words while a turn runs, in the chat container.

    Pass `hear` to `Interviewer.reply` as `on_said`: each message has its bubble, found by the
    message's id; a model's drafts show in it as they arrive, and the complete message takes
    their place, or, when there were none (the offline engine), is revealed word by word. The
    first words clear the waiting indicator.
    """

    def __init__(self, chat, waiting) -> None:
        self.chat = chat
        self.waiting = waiting
        self.drafts: dict[str, DeltaGenerator] = {}  # message id -> where its draft shows

    def _first_output(self) -> None:
        if self.waiting is not None:
            self.waiting.empty()
            self.waiting = None

    def hear(self, said: Said) -> None:
        self._first_output()
        slot = self.drafts.get(said.message_id)
        if slot is None and said.final:
            with self.chat, st.chat_message("assistant", avatar=INTERVIEWER_AVATAR):
                stream_text(said.text)
            return
        if slot is None:
            with self.chat, st.chat_message("assistant", avatar=INTERVIEWER_AVATAR):
                slot = self.drafts[said.message_id] = st.empty()
        slot.text(said.text if said.final else said.text + "▌")


def show_conversation(messages: Iterable[Mapping], *, stream_from: int | None = None) -> None:
    """All messages; those at index `stream_from` and later (interviewer only) are streamed."""
    for i, message in enumerate(messages):
        streaming = (
            stream_from is not None and i >= stream_from and message.get("role") == "interviewer"
        )
        show_message(message, stream=streaming)

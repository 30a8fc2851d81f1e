"""A job description's topics: they weight the choice of questions, and the report says which
of them the interview covered."""

from __future__ import annotations

from functools import lru_cache

from agent.grading.rubrics import Question, per_question
from agent.grading.text import find, stems

# The topics a job advert for an ML or AI engineer names, each with the words that name it.
TOPICS: dict[str, tuple[str, ...]] = {
    "LLMs and foundation models": (
        "llm",
        "large language model",
        "foundation model",
        "gpt",
        "transformer",
        "generative ai",
        "genai",
        "multimodal",
    ),
    "RAG and retrieval": (
        "rag",
        "retrieval",
        "vector database",
        "vector search",
        "embedding",
        "semantic search",
        "pinecone",
        "weaviate",
        "faiss",
        "reranking",
    ),
    "Prompt engineering": ("prompt engineering", "prompting", "prompt"),
    "Fine-tuning": ("fine-tuning", "fine tune", "finetuning", "lora", "peft", "rlhf"),
    "Agents and tool use": (
        "agent",
        "tool calling",
        "function calling",
        "langchain",
        "llamaindex",
        "langgraph",
    ),
    "Model serving and latency": (
        "latency",
        "inference",
        "serving",
        "throughput",
        "real-time",
        "tensorrt",
        "onnx",
        "triton",
        "quantization",
        "vllm",
    ),
    "MLOps and deployment": (
        "mlops",
        "mlflow",
        "kubeflow",
        "ci/cd",
        "deployment",
        "docker",
        "kubernetes",
        "airflow",
        "model registry",
    ),
    "Monitoring and drift": ("monitoring", "drift", "observability"),
    "ML system design": (
        "system design",
        "recommendation",
        "recommender",
        "ranking",
        "personalization",
        "personalisation",
        "fraud",
        "feature store",
        "search",
    ),
    "Experimentation and evaluation": (
        "a/b test",
        "ab test",
        "experimentation",
        "online experiment",
        "offline evaluation",
        "eval set",
        "evaluation set",
    ),
    "Data pipelines and quality": (
        "data pipeline",
        "etl",
        "spark",
        "data quality",
        "labeling",
        "labelling",
        "annotation",
    ),
    "Security, privacy and compliance": (
        "privacy",
        "gdpr",
        "hipaa",
        "compliance",
        "pii",
        "security",
        "governance",
        "responsible ai",
        "prompt injection",
    ),
    "AI for business and automation": (
        "automation",
        "customer support",
        "chatbot",
        "copilot",
        "productivity",
        "roi",
        "stakeholder",
        "business",
    ),
}
JOB_WEIGHT = 2  # per topic of the job a question covers, at most two topics' worth


@lru_cache(maxsize=64)
def _cues(topic: str) -> tuple[tuple[str, ...], ...]:
    return tuple(stems(cue) for cue in TOPICS[topic] if stems(cue))


def _names(text: str) -> set[str]:
    words = stems(text)
    return {t for t in TOPICS if any(find(cue, words) >= 0 for cue in _cues(t))}


def job_topics(text: str) -> list[str]:
    """The topics a job description names, in the order of TOPICS."""
    found = _names(text)
    return [t for t in TOPICS if t in found]


@per_question
def question_topics(question: Question) -> frozenset[str]:
    """The topics a question is about: named in its text or its reference answer."""
    return frozenset(_names(f"{question.question} {question.reference_answer}"))


def job_fit(question: Question, topics: list[str]) -> int:
    """How much a question's topics weigh in the plan for a job naming `topics`."""
    return JOB_WEIGHT * min(2, len(question_topics(question) & set(topics)))


def coverage(topics: list[str], asked: list[Question]) -> list[dict]:
    """Each topic of the job, and the questions of this interview that covered it."""
    return [
        {"topic": t, "questions": [q.id for q in asked if t in question_topics(q)]} for t in topics
    ]

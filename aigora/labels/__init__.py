"""The labeling marketplace: jobs with escrowed bounties, tasks, signed answers, quality control
(gold accuracy and Dawid-Skene aggregation) and pay for accepted labels through payout epochs."""

from aigora.labels._market import (
    ASSIGNMENT_TTL_S,
    LABEL_ANSWER_TYPES,
    JobSpec,
    Task,
    accepted_labels,
    answer_message,
    create_job,
    job_id_of,
    labeling_lines,
    next_task,
    parse_spec,
    submit_answer,
)
from aigora.labels._quality import (
    Answer,
    ItemLabel,
    Judgement,
    LabelingError,
    QualityPolicy,
    aggregate,
    gold_accuracy,
    judge,
)
from aigora.labels._simulate import Crowd, simulate_crowd

__all__ = [
    "ASSIGNMENT_TTL_S",
    "LABEL_ANSWER_TYPES",
    "Answer",
    "Crowd",
    "ItemLabel",
    "JobSpec",
    "Judgement",
    "LabelingError",
    "QualityPolicy",
    "Task",
    "accepted_labels",
    "aggregate",
    "answer_message",
    "create_job",
    "gold_accuracy",
    "job_id_of",
    "judge",
    "labeling_lines",
    "next_task",
    "parse_spec",
    "simulate_crowd",
    "submit_answer",
]

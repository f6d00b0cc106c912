"""The alarms family's live fixtures: the deployed alarms and topics (the declared ones are
`alarms_static`), and a test subscriber of the alarm topic."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from policies.lazy import Lazy
from policies.posture import require_write

DELIVERY_WAIT_S = 10


@pytest.fixture(scope="session")
def alarms_live(aws_target: Lazy[Any], alarms_static: Any) -> Lazy[Any]:
    """The deployed CloudWatch alarms and SNS topics (the resources they watch: as declared)."""

    def read() -> Any:
        from policies.alarms.live import read_live
        from policies.targets.aws import live_read

        target = aws_target.get()
        inventory = live_read(target, "Alarms live read", lambda: read_live(target))
        inventory.resource_types = alarms_static.resource_types
        return inventory

    return Lazy(read)


@pytest.fixture
def subscriber(
    pytestconfig: pytest.Config, aws_target: Lazy[Any], alarms_static: Any
) -> Iterator[Any]:
    """An SQS queue subscribed to the alarm topic for the test, removed afterwards (in the
    test's call phase: an unreachable target is the test's own failure)."""
    made = []

    def subscribe() -> tuple[str, Any]:
        require_write(pytestconfig, "aws", "subscribing a test queue to the alarm topic")
        topic, received, cleanup = _subscribe(aws_target.get(), alarms_static)
        made.append(cleanup)
        return topic, received

    yield subscribe
    for cleanup in made:
        cleanup()


def _subscribe(target: Any, alarms_static: Any) -> tuple[str, Any, Any]:
    sns, sqs = target.client("sns"), target.client("sqs")
    used = {a.removeprefix("sns:") for alarm in alarms_static.alarms for a in alarm.alarm_actions}
    topics = [
        t["TopicArn"]
        for page in sns.get_paginator("list_topics").paginate()
        for t in page["Topics"]
        if t["TopicArn"].rsplit(":", 1)[-1] in used
    ]
    if not topics:
        pytest.fail(f"no deployed topic among the alarm actions {sorted(used)}", pytrace=False)
    queue = sqs.create_queue(QueueName=f"pingvas-alarm-test-{int(time.time() * 1000)}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.set_queue_attributes(
        QueueUrl=queue,
        Attributes={
            "Policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": queue_arn,
                            "Condition": {"ArnEquals": {"aws:SourceArn": topics[0]}},
                        }
                    ],
                }
            )
        },
    )
    subscription = sns.subscribe(
        TopicArn=topics[0], Protocol="sqs", Endpoint=queue_arn, ReturnSubscriptionArn=True
    )["SubscriptionArn"]

    def received(marker: str, wait_s: float = DELIVERY_WAIT_S) -> bool:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            for message in sqs.receive_message(
                QueueUrl=queue, WaitTimeSeconds=1, MaxNumberOfMessages=10
            ).get("Messages", []):
                if marker in message["Body"]:
                    return True
        return False

    def cleanup() -> None:
        sns.unsubscribe(SubscriptionArn=subscription)
        sqs.delete_queue(QueueUrl=queue)

    return topics[0], received, cleanup

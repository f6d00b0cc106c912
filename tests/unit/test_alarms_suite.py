"""The alarms family end to end: a threshold raised in the files fails statically with the
alarm, file and line; a threshold changed on the deployed alarm fails the drift check."""

import pytest

from policies.alarms.drift import drift
from policies.alarms.live import read_live
from policies.catalog import load_catalog
from tests.helpers import failures_on_copy, suite


def test_threshold_beyond_bound_fails_statically_naming_alarm_file_and_line(tmp_path):
    done, failures = failures_on_copy(
        tmp_path,
        "terraform/modules/alarms/main.tf",
        "  threshold           = 80\n",
        "  threshold           = 97\n",
        *suite("alarms"),
        "-m",
        "static",
    )
    assert done.returncode == 1, done.stdout[-2000:]
    assert set(failures) == {"test_static[ALM-002]"}, failures
    message = failures["test_static[ALM-002]"]
    assert "terraform/modules/alarms/main.tf:41: ALM-002 dev-pingvas-rds-cpu-high" in message
    assert "threshold out of bounds (expected 50..90; actual 97.0)" in message


@pytest.mark.live
def test_changed_deployed_threshold_fails_drift(aws_target, alarms_static):
    aws_target = aws_target.get()
    if aws_target.endpoint is None:
        pytest.skip("changes a deployed alarm: runs only against a local endpoint")
    cloudwatch = aws_target.client("cloudwatch")
    name = next(a.name for a in alarms_static.alarms if a.name.endswith("rds-cpu-high"))
    [alarm] = cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    keys = (
        "AlarmName",
        "AlarmDescription",
        "ActionsEnabled",
        "OKActions",
        "AlarmActions",
        "MetricName",
        "Namespace",
        "Statistic",
        "Dimensions",
        "Period",
        "EvaluationPeriods",
        "DatapointsToAlarm",
        "Threshold",
        "ComparisonOperator",
        "TreatMissingData",
    )
    original = {k: alarm[k] for k in keys if k in alarm}
    cloudwatch.put_metric_alarm(**{**original, "Threshold": 99.0})
    try:
        findings = drift(alarms_static, read_live(aws_target), load_catalog()["ALM-010"])
    finally:
        cloudwatch.put_metric_alarm(**original)
    [finding] = findings
    assert finding.resource.names == (name, "threshold")
    assert finding.message.startswith("threshold differs from ")
    assert "modules/alarms/main.tf:41" in finding.message
    assert (finding.expected, finding.actual) == ("80.0", "99.0")
    assert drift(alarms_static, read_live(aws_target), load_catalog()["ALM-010"]) == []

"""The security issues' template items: an immutable copy of the audit trail outside its table, MFA
for the workforce, a firewall that keeps one client from starving the others, service principals
that only act for this account, and (issue 18) the stack's key on the event bus and on every
schedule's payload, the scheduler's role passed to the scheduler only, and roles bound to the pool
that issued the token.

Everything here reads template.yaml (there is no S3, WAF or Cognito locally); two tests also run
SAM's translator and cfn-lint, to check what the template means once SAM has expanded it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest

from clinic import routes, workers
from local_stack import ROOT
from local_stack import template as tpl

RUNBOOK = ROOT / "docs" / "runbook.md"
SAM_PYTHON = ROOT / ".venv-tools" / "sam" / "bin" / "python"
CFN_LINT = ROOT / ".venv-tools" / "sam" / "bin" / "cfn-lint"


def resources() -> dict:
    return tpl.load()["Resources"]


def props(logical_id: str) -> dict:
    return resources()[logical_id]["Properties"]


def parameter(name: str) -> dict:
    return tpl.load()["Parameters"][name]


def getatt(logical_id: str, attribute: str = "Arn") -> dict:
    return {"Fn::GetAtt": [logical_id, attribute]}


def ref(logical_id: str) -> dict:
    return {"Ref": logical_id}


def statements(document: dict) -> list[dict]:
    found = document["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def sub_text(value) -> str:
    assert isinstance(value, dict) and "Fn::Sub" in value, value
    return value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]


def runbook_section(name: str) -> str:
    sections = re.split(r"^## ", RUNBOOK.read_text(encoding="utf-8"), flags=re.M)[1:]
    (section,) = [s for s in sections if s.splitlines()[0].split()[0] == name]
    return section


# ====================================================================== 1. the audit trail
def test_given_the_audit_table_then_it_has_a_stream_with_old_and_new_images_for_the_tamper_detector():
    assert props("AuditTable")["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}


def test_given_the_audit_table_then_every_change_flows_through_kinesis_and_firehose_into_the_locked_bucket():
    # AuditTable → AuditStream
    assert props("AuditTable")["KinesisStreamSpecification"]["StreamArn"] == getatt("AuditStream")
    assert resources()["AuditStream"]["Type"] == "AWS::Kinesis::Stream"
    # AuditStream → AuditArchiveDeliveryStream → AuditArchiveBucket
    firehose = props("AuditArchiveDeliveryStream")
    assert resources()["AuditArchiveDeliveryStream"]["Type"] == "AWS::KinesisFirehose::DeliveryStream"
    assert firehose["DeliveryStreamType"] == "KinesisStreamAsSource"
    assert firehose["KinesisStreamSourceConfiguration"] == {
        "KinesisStreamARN": getatt("AuditStream"),
        "RoleARN": getatt("AuditArchiveDeliveryRole"),
    }
    destination = firehose["ExtendedS3DestinationConfiguration"]
    assert destination["BucketARN"] == getatt("AuditArchiveBucket")
    assert destination["RoleARN"] == getatt("AuditArchiveDeliveryRole")
    assert destination["ErrorOutputPrefix"].startswith("errors/")
    assert set(destination["BufferingHints"]) == {"IntervalInSeconds", "SizeInMBs"}
    # the stream outlives a Firehose or S3 outage of days
    assert props("AuditStream")["RetentionPeriodHours"] >= 72


def test_given_the_archive_bucket_then_object_lock_is_compliance_mode_for_the_retention_parameter():
    bucket = props("AuditArchiveBucket")
    assert bucket["ObjectLockEnabled"] is True
    assert bucket["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": ref("AuditArchiveRetentionYears")}},
    }
    retention = parameter("AuditArchiveRetentionYears")
    assert retention["Type"] == "Number" and retention["Default"] == 6
    assert retention["MinValue"] >= 1 and retention["MaxValue"] <= 100  # S3's own bound


def test_given_the_archive_bucket_then_it_is_versioned_private_kept_and_logged():
    bucket = props("AuditArchiveBucket")
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert bucket["LoggingConfiguration"]["DestinationBucketName"] == ref("AuditArchiveAccessLogBucket")
    resource = resources()["AuditArchiveBucket"]
    assert resource["DeletionPolicy"] == "Retain" and resource["UpdateReplacePolicy"] == "Retain"
    # nothing in the archive expires on its own
    for rule in bucket.get("LifecycleConfiguration", {}).get("Rules", []):
        assert not {"ExpirationInDays", "ExpirationDate", "NoncurrentVersionExpiration"} & set(rule), rule


@pytest.mark.parametrize("bucket", ["AuditArchiveBucket", "AuditArchiveAccessLogBucket"])
def test_given_each_archive_bucket_when_a_request_is_not_tls_then_its_policy_denies_it(bucket):
    (policy,) = [
        p
        for p in resources().values()
        if p["Type"] == "AWS::S3::BucketPolicy" and p["Properties"]["Bucket"] == ref(bucket)
    ]
    denied = [
        s
        for s in statements(policy["Properties"]["PolicyDocument"])
        if s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert denied and denied[0]["Principal"] == "*" and denied[0]["Action"] == "s3:*"
    assert getatt(bucket) in denied[0]["Resource"]


def test_given_the_archive_bucket_policy_then_only_the_delivery_role_writes_and_nobody_deletes():
    (policy,) = [
        p
        for p in resources().values()
        if p["Type"] == "AWS::S3::BucketPolicy" and p["Properties"]["Bucket"] == ref("AuditArchiveBucket")
    ]
    by_sid = {s["Sid"]: s for s in statements(policy["Properties"]["PolicyDocument"])}
    writes = by_sid["OnlyTheDeliveryStreamWrites"]
    assert writes["Effect"] == "Deny" and writes["Action"] == "s3:PutObject"
    assert writes["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": getatt("AuditArchiveDeliveryRole")}}
    deletes = by_sid["NoDeleteMarkersOrDeletes"]
    assert deletes["Effect"] == "Deny" and "Condition" not in deletes
    assert {"s3:DeleteObject", "s3:DeleteObjectVersion"} <= set(as_list(deletes["Action"]))


def test_given_the_archive_path_then_the_stream_firehose_output_and_bucket_use_the_archive_key():
    key = getatt("AuditArchiveKey")
    assert props("AuditStream")["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": key}
    destination = props("AuditArchiveDeliveryStream")["ExtendedS3DestinationConfiguration"]
    assert destination["EncryptionConfiguration"] == {"KMSEncryptionConfig": {"AWSKMSKeyARN": key}}
    (rule,) = props("AuditArchiveBucket")["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}


def test_given_the_archive_key_then_it_rotates_outlives_the_stack_and_nobody_may_disable_or_delete_it():
    resource = resources()["AuditArchiveKey"]
    assert resource["DeletionPolicy"] == "Retain" and resource["Properties"]["EnableKeyRotation"] is True
    denied = [s for s in statements(resource["Properties"]["KeyPolicy"]) if s["Effect"] == "Deny"]
    assert any(
        {"kms:ScheduleKeyDeletion", "kms:DisableKey"} <= set(as_list(s["Action"]))
        and s["Principal"] == "*"
        and "Condition" not in s
        for s in denied
    )


def test_given_the_delivery_role_then_firehose_of_this_stream_only_may_assume_it_and_it_reaches_nothing_else():
    role = props("AuditArchiveDeliveryRole")
    (trust,) = statements(role["AssumeRolePolicyDocument"])
    assert trust["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ref("AWS::AccountId")}
    source = sub_text(trust["Condition"]["ArnLike"]["aws:SourceArn"])
    assert source.endswith(":deliverystream/${AWS::StackName}-audit-archive")
    assert sub_text(props("AuditArchiveDeliveryStream")["DeliveryStreamName"]) == "${AWS::StackName}-audit-archive"
    allowed = {"AuditStream", "AuditArchiveBucket", "AuditArchiveKey", "AuditArchiveDeliveryLogGroup"}
    for policy in role["Policies"]:
        for statement in statements(policy["PolicyDocument"]):
            assert statement["Effect"] == "Allow"
            assert not any(a == "*" or a.endswith(":*") for a in as_list(statement["Action"])), statement
            for target in as_list(statement["Resource"]):
                assert target != "*", statement
                named = (
                    target["Fn::GetAtt"][0]
                    if "Fn::GetAtt" in target
                    else re.match(r"\$\{(\w+)\.Arn\}", sub_text(target)).group(1)
                )
                assert named in allowed, statement
            if any(a.startswith("kms:") for a in as_list(statement["Action"])):
                assert "kms:ViaService" in statement["Condition"]["StringEquals"], statement


def test_given_the_audit_table_policy_then_it_stays_append_only_for_everyone():
    (first, *_) = statements(props("AuditTable")["ResourcePolicy"]["PolicyDocument"])
    assert first["Sid"] == "AppendOnly" and first["Effect"] == "Deny" and first["Principal"] == "*"
    assert "Condition" not in first
    assert {
        "dynamodb:UpdateItem",
        "dynamodb:DeleteItem",
        "dynamodb:BatchWriteItem",
        "dynamodb:PartiQLUpdate",
        "dynamodb:PartiQLDelete",
    } <= set(first["Action"])


def test_given_the_audit_table_policy_then_app_roles_may_not_change_it_and_the_deployer_still_may():
    policy_actions = {"dynamodb:PutResourcePolicy", "dynamodb:DeleteResourcePolicy"}
    denies = [
        s
        for s in statements(props("AuditTable")["ResourcePolicy"]["PolicyDocument"])
        if s["Effect"] == "Deny" and policy_actions & set(as_list(s["Action"]))
    ]
    conditions = []
    for statement in denies:
        assert policy_actions <= set(as_list(statement["Action"])), statement
        assert "dynamodb:DisableKinesisStreamingDestination" in statement["Action"]  # the archive feed
        # Never unconditional: a Deny of PutResourcePolicy to everyone would lock out CloudFormation.
        assert statement.get("Condition"), statement
        conditions.append(statement["Condition"])
    assert {"StringEquals": {"aws:PrincipalTag/lambda:createdBy": "SAM"}} in conditions
    (by_arn,) = [c for c in conditions if "ArnLike" in c]
    stack_roles = "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${AWS::StackName}-*"
    assert sub_text(by_arn["ArnLike"]["aws:PrincipalArn"]) == stack_roles
    assert len(conditions) == 2


def test_given_sams_translation_then_every_function_role_carries_the_marks_the_audit_deny_relies_on(translated):
    roles = {k: v for k, v in translated.items() if v["Type"] == "AWS::IAM::Role" and k.endswith("FunctionRole")}
    assert len(roles) == len(tpl.functions())
    for name, role in roles.items():
        assert {"Key": "lambda:createdBy", "Value": "SAM"} in role["Properties"].get("Tags", []), name
        # no RoleName: CloudFormation names it "<stack>-<logical id>-<suffix>"
        assert "RoleName" not in role["Properties"], name


# ---------------------------------------------------------------------- the tamper alarm
def test_given_the_tamper_metric_when_any_datapoint_is_one_or_more_then_the_alarm_pages():
    alarm = props("AuditTamperedAlarm")
    assert resources()["AuditTamperedAlarm"]["Type"] == "AWS::CloudWatch::Alarm"
    assert alarm["AlarmActions"] == [ref("AlarmTopic")] and alarm["OKActions"] == [ref("AlarmTopic")]
    assert alarm["AlarmDescription"].startswith("PAGE")
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanOrEqualToThreshold", 1)
    assert (alarm["EvaluationPeriods"], alarm["DatapointsToAlarm"]) == (1, 1)
    assert alarm["TreatMissingData"] == "notBreaching"
    (query,) = alarm["Metrics"]
    assert query["ReturnData"] is True
    assert query["MetricStat"]["Period"] == 300 and query["MetricStat"]["Stat"] == "Sum"
    assert query["MetricStat"]["Metric"] == {
        "Namespace": "ClinicAppointments",
        "MetricName": "AuditTampered",
        "Dimensions": [{"Name": "service", "Value": "clinic-appointments"}],
    }


@pytest.mark.parametrize("alarm", ["AuditTamperedAlarm", "AuditArchiveStaleAlarm"])
def test_given_each_new_alarm_then_its_runbook_section_says_what_to_read_do_and_check(alarm):
    section = runbook_section(alarm)
    for part in ("What it means", "Dashboard", "First three things", "Recovered when"):
        assert f"**{part}**" in section, (alarm, part)
    assert f"section {alarm}." in props(alarm)["AlarmDescription"]


def test_given_the_archive_when_it_falls_behind_then_a_ticket_alarm_watches_both_halves_of_the_path():
    alarm = props("AuditArchiveStaleAlarm")
    assert alarm["AlarmDescription"].startswith("TICKET")
    watched = {
        (
            q["MetricStat"]["Metric"]["Namespace"],
            q["MetricStat"]["Metric"]["MetricName"],
            json.dumps(q["MetricStat"]["Metric"]["Dimensions"][0]["Value"]),
        )
        for q in alarm["Metrics"]
        if "MetricStat" in q
    }
    assert watched == {
        ("AWS/Firehose", "DeliveryToS3.DataFreshness", json.dumps(ref("AuditArchiveDeliveryStream"))),
        ("AWS/DynamoDB", "ConsumedWriteCapacityUnits", json.dumps(ref("AuditTable"))),
        ("AWS/Kinesis", "IncomingRecords", json.dumps(ref("AuditStream"))),
    }


# ====================================================================== 2. MFA
def test_given_the_workforce_pool_then_a_totp_second_factor_is_required_and_only_staff_create_accounts():
    pool = props("WorkforceUserPool")
    assert pool["MfaConfiguration"] == "ON" and pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    assert pool["UserPoolTier"] == "PLUS"  # threat protection needs the Plus plan
    assert [a["Name"] for a in pool["Schema"]] == ["doctor_id"]


def test_given_the_patient_pool_then_mfa_is_optional_with_totp():
    pool = props("UserPool")
    assert pool["MfaConfiguration"] == "OPTIONAL" and pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert "patient_id" in [a["Name"] for a in pool["Schema"]]


def test_given_the_groups_then_staff_and_doctors_live_in_the_workforce_pool_and_patients_in_the_patient_pool():
    groups = {
        p["Properties"]["GroupName"]: p["Properties"]["UserPoolId"]
        for p in resources().values()
        if p["Type"] == "AWS::Cognito::UserPoolGroup"
    }
    assert groups == {
        "staff": ref("WorkforceUserPool"),
        "doctors": ref("WorkforceUserPool"),
        "patients": ref("UserPool"),
    }


@pytest.mark.parametrize(
    ("client", "pool"), [("WorkforceUserPoolClient", "WorkforceUserPool"), ("UserPoolClient", "UserPool")]
)
def test_given_each_pool_then_its_client_has_no_secret_srp_only_and_cannot_write_id_attributes(client, pool):
    properties = props(client)
    assert properties["UserPoolId"] == ref(pool)
    assert properties["GenerateSecret"] is False
    assert properties["ExplicitAuthFlows"] == ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
    assert properties["PreventUserExistenceErrors"] == "ENABLED"
    assert properties["WriteAttributes"] == ["email"]


def _hours(properties: dict, token: str) -> float:
    """How long a client's AccessToken / IdToken / RefreshToken lives, in hours."""
    unit = properties["TokenValidityUnits"][token]
    return properties[f"{token}Validity"] * {"minutes": 1 / 60, "hours": 1, "days": 24}[unit]


def test_given_the_clients_then_workforce_sessions_are_short_and_patients_stay_signed_in_longer():
    workforce, patients = props("WorkforceUserPoolClient"), props("UserPoolClient")
    assert _hours(workforce, "AccessToken") <= 1 and _hours(workforce, "IdToken") <= 1
    assert _hours(workforce, "RefreshToken") <= 12
    assert _hours(patients, "AccessToken") <= 1 and _hours(patients, "IdToken") <= 1
    assert _hours(patients, "RefreshToken") > _hours(workforce, "RefreshToken")


def test_given_the_api_then_its_cognito_authorizer_trusts_both_pools():
    authorizer = props("ClinicApi")["Auth"]["Authorizers"]["CognitoAuthorizer"]
    assert authorizer["UserPoolArn"] == [getatt("WorkforceUserPool"), getatt("UserPool")]
    assert props("ClinicApi")["Auth"]["DefaultAuthorizer"] == "CognitoAuthorizer"


def test_given_sams_translation_then_the_authorizer_lists_both_pools_and_the_acl_waits_for_the_stage(translated):
    (api,) = [v for v in translated.values() if v["Type"] == "AWS::ApiGateway::RestApi"]
    authorizer = api["Properties"]["Body"]["securityDefinitions"]["CognitoAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert authorizer["providerARNs"] == [getatt("WorkforceUserPool"), getatt("UserPool")]
    association = sub_text(translated["ClinicWebAclAssociation"]["Properties"]["ResourceArn"])
    (stage,) = re.findall(r"/stages/\$\{(\w+)\}$", association)
    assert translated[stage]["Type"] == "AWS::ApiGateway::Stage"  # a Ref: the association waits for it


def test_given_the_cfn_lint_exception_on_clinic_api_then_it_covers_only_the_two_pool_authorizer(tmp_path):
    # cfn-lint types UserPoolArn as one string; SAM takes a list. Without the exception, the list
    # must be the only finding in the whole template, or the exception hides something else.
    api = resources()["ClinicApi"]
    ignored = api["Metadata"]["cfn-lint"]["config"]["ignore_checks"]
    assert sorted(ignored) == ["E3002", "E3003", "E3012", "E3017"]
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    without, count = re.subn(r"\n      cfn-lint:\n        config:\n          ignore_checks: \[E3002[^\]]*\]", "", text)
    assert count == 1
    copy = tmp_path / "template.yaml"
    copy.write_text(without, encoding="utf-8")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [str(CFN_LINT), str(copy), "-a", "cfn_lint_serverless.rules", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    findings = json.loads(result.stdout or "[]")
    assert findings, "cfn-lint accepts the list now: drop the exception from infra/base.yaml"
    for finding in findings:
        assert finding["Rule"]["Id"] in ignored, finding
        assert finding["Location"]["Path"][:2] == ["Resources", "ClinicApi"], finding
        assert "UserPoolArn" in finding["Location"]["Path"] or finding["Location"]["Path"][-1] == "CognitoAuthorizer", (
            finding
        )


def test_given_the_readme_then_it_names_the_pool_outputs_that_exist():
    outputs = tpl.load()["Outputs"]
    for name in ("WorkforceUserPoolId", "WorkforceUserPoolClientId", "PatientUserPoolId", "PatientUserPoolClientId"):
        assert name in outputs, name
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"`(\w+(?:PoolId|PoolClientId))`", readme))
    assert named and named <= set(outputs), sorted(named - set(outputs))
    assert outputs["PatientUserPoolId"]["Value"] == ref("UserPool")
    assert outputs["WorkforceUserPoolId"]["Value"] == ref("WorkforceUserPool")


# ====================================================================== 3. the firewall
def rules() -> dict[str, dict]:
    return {r["Name"]: r for r in props("ClinicWebAcl")["Rules"]}


def test_given_the_web_acl_then_it_is_regional_and_associated_with_the_api_stage():
    acl = props("ClinicWebAcl")
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}
    association = props("ClinicWebAclAssociation")
    assert association["WebACLArn"] == getatt("ClinicWebAcl")
    assert (
        sub_text(association["ResourceArn"])
        == "arn:${AWS::Partition}:apigateway:${AWS::Region}::/restapis/${ClinicApi}/stages/${ClinicApi.Stage}"
    )


def test_given_the_rate_rules_then_one_counts_per_source_ip_and_one_per_bearer_token_with_parameter_limits():
    per_ip = rules()["RatePerSourceIp"]["Statement"]["RateBasedStatement"]
    assert per_ip["AggregateKeyType"] == "IP" and per_ip["Limit"] == ref("WafRateLimitPerIp")
    per_token = rules()["RatePerToken"]["Statement"]["RateBasedStatement"]
    assert per_token["AggregateKeyType"] == "CUSTOM_KEYS" and per_token["Limit"] == ref("WafRateLimitPerToken")
    assert [k["Header"]["Name"].lower() for k in per_token["CustomKeys"]] == ["authorization"]
    for name in ("WafRateLimitPerIp", "WafRateLimitPerToken"):
        assert parameter(name)["Type"] == "Number" and parameter(name)["MinValue"] >= 10  # WAF's minimum
    assert parameter("WafRateLimitPerToken")["Default"] < parameter("WafRateLimitPerIp")["Default"]


def test_given_a_rate_rule_when_it_blocks_then_the_answer_is_a_429_problem_with_retry_after():
    bodies = props("ClinicWebAcl")["CustomResponseBodies"]
    for name in ("RatePerSourceIp", "RatePerToken"):
        response = rules()[name]["Action"]["Block"]["CustomResponse"]
        assert response["ResponseCode"] == 429
        assert {h["Name"] for h in response["ResponseHeaders"]} == {"Retry-After"}
        problem = json.loads(bodies[response["CustomResponseBodyKey"]]["Content"])
        assert problem["status"] == 429 and problem["code"] == "THROTTLED"
        assert {"type", "title", "detail"} <= set(problem)


def test_given_the_managed_rule_groups_then_both_run_and_only_the_8kb_body_limit_is_counted_instead_of_blocked():
    managed = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]: r
        for r in rules().values()
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert set(managed) == {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"}
    for rule in managed.values():
        assert rule["OverrideAction"] == {"None": {}}  # the groups block; they are not merely counting
    common = managed["AWSManagedRulesCommonRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert common["RuleActionOverrides"] == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
    bad_inputs = managed["AWSManagedRulesKnownBadInputsRuleSet"]["Statement"]["ManagedRuleGroupStatement"]
    assert "RuleActionOverrides" not in bad_inputs
    # rate rules run before the managed groups
    assert max(rules()[n]["Priority"] for n in ("RatePerSourceIp", "RatePerToken")) < min(
        r["Priority"] for r in managed.values()
    )


def test_given_a_managed_rule_when_it_blocks_then_api_gateway_answers_a_403_problem_json():
    response = props("ClinicApi")["GatewayResponses"]["WAF_FILTERED"]
    assert response["StatusCode"] == "403"
    assert response["ResponseParameters"]["Headers"]["Content-Type"] == "'application/problem+json'"
    problem = json.loads(response["ResponseTemplates"]["application/json"])
    assert problem["status"] == 403 and problem["code"] == "FORBIDDEN"


def test_given_the_web_acl_then_every_rule_and_the_acl_publish_metrics_and_samples():
    acl = props("ClinicWebAcl")
    for config in [acl["VisibilityConfig"], *(r["VisibilityConfig"] for r in acl["Rules"])]:
        assert config["CloudWatchMetricsEnabled"] is True and config["SampledRequestsEnabled"] is True
        assert config["MetricName"]


def test_given_waf_logging_then_it_goes_to_an_encrypted_aws_waf_logs_group_with_retention_and_no_token():
    logging = props("ClinicWebAclLogging")
    assert logging["ResourceArn"] == getatt("ClinicWebAcl")
    (destination,) = logging["LogDestinationConfigs"]
    assert sub_text(destination).endswith(":log-group:${WafLogGroup}")  # WAF wants the ARN without ":*"
    group = props("WafLogGroup")
    assert sub_text(group["LogGroupName"]).startswith("aws-waf-logs-")  # WAF's required prefix
    assert group["RetentionInDays"] == ref("LogRetentionDays")
    assert group["KmsKeyId"] == getatt("DataKey")
    assert {"SingleHeader": {"Name": "authorization"}} in logging["RedactedFields"]
    # and not in clear anywhere WAF outputs it (sampled requests, rate-limit keys in the logs)
    (protection,) = props("ClinicWebAcl")["DataProtectionConfig"]["DataProtections"]
    assert protection["Field"] == {"FieldType": "SINGLE_HEADER", "FieldKeys": ["authorization"]}
    assert protection["ExcludeRateBasedDetails"] is False and protection["ExcludeRuleMatchDetails"] is False


# ====================================================================== 4. service principals
def test_given_the_data_key_then_cloudwatch_may_use_it_only_for_this_accounts_alarms_in_this_region():
    by_sid = {s["Sid"]: s for s in statements(props("DataKey")["KeyPolicy"])}
    condition = by_sid["CloudWatchAlarmsPublishToEncryptedTopic"]["Condition"]
    assert condition["StringEquals"] == {"aws:SourceAccount": ref("AWS::AccountId")}
    assert (
        sub_text(condition["ArnLike"]["aws:SourceArn"])
        == "arn:${AWS::Partition}:cloudwatch:${AWS::Region}:${AWS::AccountId}:alarm:*"
    )


def _documents(resource: dict) -> list[dict]:
    """Every policy document a resource carries (key, bucket, log group, trust and inline policies)."""
    properties = resource.get("Properties") or {}
    keys = ("KeyPolicy", "PolicyDocument", "AssumeRolePolicyDocument", "ResourcePolicyDocument")
    found = [properties[k] for k in keys if isinstance(properties.get(k), dict)]
    found += [p["PolicyDocument"] for p in properties.get("Policies", []) if "PolicyDocument" in p]
    return found


CONFUSED_DEPUTY_KEYS = ("aws:SourceAccount", "aws:SourceArn", "kms:EncryptionContext:")


def test_given_any_statement_that_allows_an_aws_service_then_it_is_bound_to_this_account():
    checked = 0
    for name, resource in resources().items():
        for document in _documents(resource):
            for statement in statements(document):
                principal = statement.get("Principal")
                if statement["Effect"] != "Allow" or not isinstance(principal, dict) or "Service" not in principal:
                    continue
                checked += 1
                keys = {k for operator in (statement.get("Condition") or {}).values() for k in operator}
                assert any(k.startswith(CONFUSED_DEPUTY_KEYS) for k in keys), (name, statement.get("Sid"), principal)
    assert checked >= 5  # CloudWatch, logs (key), Firehose (trust), S3 logging, log delivery (WAF)


def test_given_the_outputs_then_the_archive_and_the_acl_can_be_found():
    outputs = tpl.load()["Outputs"]
    assert outputs["AuditArchiveBucketName"]["Value"] == ref("AuditArchiveBucket")
    assert outputs["WebAclArn"]["Value"] == getatt("ClinicWebAcl")


def test_the_new_resources_exist_with_the_expected_types():
    expected = {
        "AuditArchiveKey": "AWS::KMS::Key",
        "AuditStream": "AWS::Kinesis::Stream",
        "AuditArchiveDeliveryStream": "AWS::KinesisFirehose::DeliveryStream",
        "AuditArchiveBucket": "AWS::S3::Bucket",
        "AuditArchiveDeliveryRole": "AWS::IAM::Role",
        "WorkforceUserPool": "AWS::Cognito::UserPool",
        "WorkforceUserPoolClient": "AWS::Cognito::UserPoolClient",
        "ClinicWebAcl": "AWS::WAFv2::WebACL",
        "ClinicWebAclAssociation": "AWS::WAFv2::WebACLAssociation",
        "ClinicWebAclLogging": "AWS::WAFv2::LoggingConfiguration",
        "WafLogGroup": "AWS::Logs::LogGroup",
        "AuditTamperedAlarm": "AWS::CloudWatch::Alarm",
        "AuditArchiveStaleAlarm": "AWS::CloudWatch::Alarm",
    }
    assert {k: resources()[k]["Type"] for k in expected} == expected


# ====================================================================== 5. the bus, the schedules, their role
# Events and schedule payloads carry patient, doctor, appointment and hold ids.
BUS_ARN = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:event-bus/"
SCHEDULES = "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${ClinicScheduleGroup}/*"
ONLY_THESE_SCHEDULES = {"kms:EncryptionContext:aws:scheduler:schedule:arn": {"Fn::Sub": SCHEDULES}}
VIA_SCHEDULER = {"kms:ViaService": {"Fn::Sub": "scheduler.${AWS::Region}.amazonaws.com"}}


def function_statements(logical_id: str) -> list[dict]:
    return [s for p in props(logical_id).get("Policies", []) for s in p["Statement"]]


def test_given_the_event_bus_then_it_is_encrypted_with_the_stacks_key_and_dead_letters_what_fails():
    bus = props("ClinicEventBus")
    assert bus["KmsKeyIdentifier"] == getatt("DataKey")
    # events EventBridge cannot encrypt or decrypt (key disabled, policy broken) are kept, not dropped
    assert bus["DeadLetterConfig"] == {"Arn": getatt("EventsDeadLetterQueue")}
    (undelivered,) = statements(props("EventsDeadLetterQueuePolicy")["PolicyDocument"])
    sources = [sub_text(s) for s in as_list(undelivered["Condition"]["ArnLike"]["aws:SourceArn"])]
    rules = "arn:${AWS::Partition}:events:${AWS::Region}:${AWS::AccountId}:rule/${ClinicEventBus}/*"
    assert sorted(sources) == sorted([BUS_ARN + "${ClinicEventBus}", rules])


def test_given_the_data_key_then_eventbridge_may_encrypt_with_it_for_this_stacks_bus_only():
    by_sid = {s["Sid"]: s for s in statements(props("DataKey")["KeyPolicy"])}
    bus = BUS_ARN + sub_text(props("ClinicEventBus")["Name"])  # the bus by name: its ARN would be a cycle
    use = by_sid["EventBridgeEncryptsTheBus"]
    assert use["Principal"] == {"Service": "events.amazonaws.com"} and use["Effect"] == "Allow"
    assert sorted(as_list(use["Action"])) == ["kms:Decrypt", "kms:GenerateDataKey"]
    condition = use["Condition"]["StringEquals"]
    assert condition["aws:SourceAccount"] == ref("AWS::AccountId")
    assert sub_text(condition["aws:SourceArn"]) == bus
    assert sub_text(condition["kms:EncryptionContext:aws:events:event-bus:arn"]) == bus
    # DescribeKey has no encryption context: a statement of its own, bound to the account, nothing else
    check = by_sid["EventBridgeChecksTheBusKey"]
    assert check["Principal"] == {"Service": "events.amazonaws.com"} and as_list(check["Action"]) == ["kms:DescribeKey"]
    assert check["Condition"] == {"StringEquals": {"aws:SourceAccount": ref("AWS::AccountId")}}


def test_given_the_publishers_then_put_events_is_all_they_need_on_the_encrypted_bus():
    """EventBridge encrypts a bus's events as its own principal (the key policy above): a PutEvents
    caller needs no KMS permission of its own (AWS: eb-encryption-event-bus-cmkey)."""
    publishers = [n for n, r in resources().items() if r["Type"] == "AWS::Serverless::Function"]
    publishers = [n for n in publishers if any("events:PutEvents" in s["Action"] for s in function_statements(n))]
    assert sorted(publishers) == ["PublishEventsFunction", "SendReminderFunction"]
    for name in publishers:
        assert not [s for s in function_statements(name) if any(a.startswith("kms:") for a in s["Action"])], name


def test_given_the_timers_worker_then_every_schedule_it_makes_carries_the_stacks_key():
    timers = props("ScheduleTimersFunction")
    assert timers["Environment"]["Variables"]["SCHEDULE_KMS_KEY_ARN"] == getatt("DataKey")
    kms = [s for s in function_statements("ScheduleTimersFunction") if any(a.startswith("kms:") for a in s["Action"])]
    by_actions = {tuple(sorted(s["Action"])): s for s in kms}
    # AWS (Scheduler guide, "Managing KMS keys"): the principal creating a schedule with a customer
    # managed key needs kms:DescribeKey, kms:GenerateDataKey and kms:Decrypt, which Scheduler uses
    # on its behalf (kms:ViaService); the data keys are bound to the schedule's ARN.
    assert set(by_actions) == {("kms:DescribeKey",), ("kms:Decrypt", "kms:GenerateDataKey")}
    describe, crypto = by_actions[("kms:DescribeKey",)], by_actions[("kms:Decrypt", "kms:GenerateDataKey")]
    assert describe["Resource"] == crypto["Resource"] == getatt("DataKey")
    assert describe["Condition"] == {"StringEquals": VIA_SCHEDULER}
    assert crypto["Condition"]["StringEquals"] == VIA_SCHEDULER
    assert crypto["Condition"]["ArnLike"] == ONLY_THESE_SCHEDULES
    # and no other function may use the key through the scheduler
    others = [
        name
        for name, r in resources().items()
        if r["Type"] == "AWS::Serverless::Function" and name != "ScheduleTimersFunction"
        if any(a.startswith("kms:") for s in function_statements(name) for a in s["Action"])
    ]
    assert others == []


def test_given_the_schedules_code_then_it_creates_and_updates_every_schedule_with_the_key_it_is_given():
    text = (ROOT / "layers" / "shared" / "clinic" / "data" / "schedules.py").read_text(encoding="utf-8")
    assert '"KmsKeyArn": os.environ["SCHEDULE_KMS_KEY_ARN"]' in text  # no default: without the key, no schedule
    assert text.count("create_schedule(**request)") == 1 and text.count("update_schedule(**request)") == 1


def test_given_the_scheduler_role_then_it_may_decrypt_only_this_groups_schedule_payloads():
    (policy,) = props("SchedulerRole")["Policies"]
    (statement,) = [s for s in statements(policy["PolicyDocument"]) if "aws:scheduler:schedule:arn" in json.dumps(s)]
    assert as_list(statement["Action"]) == ["kms:Decrypt"] and statement["Resource"] == getatt("DataKey")
    assert statement["Condition"] == {"ArnLike": ONLY_THESE_SCHEDULES}


def test_given_the_data_key_then_scheduler_has_no_service_statement_and_iam_may_grant_its_use():
    """Scheduler encrypts and decrypts with the caller's and the execution role's IAM permissions (no
    service principal, no grants), so the key policy must let IAM policies grant the key: the account
    statement does."""
    key_statements = statements(props("DataKey")["KeyPolicy"])
    assert not [s for s in key_statements if "scheduler" in json.dumps(s.get("Principal"))]
    (account,) = [s for s in key_statements if s["Sid"] == "AccountAdministers"]
    assert sub_text(account["Principal"]["AWS"]) == "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
    assert account["Action"] == "kms:*" and "Condition" not in account


def test_given_any_function_that_passes_a_role_then_only_the_scheduler_role_and_only_to_the_scheduler():
    passing = {
        name: s
        for name, r in resources().items()
        if r["Type"] == "AWS::Serverless::Function"
        for s in function_statements(name)
        if "iam:PassRole" in s["Action"]
    }
    assert list(passing) == ["ScheduleTimersFunction"]
    statement = passing["ScheduleTimersFunction"]
    assert statement["Action"] == ["iam:PassRole"] and statement["Resource"] == getatt("SchedulerRole")
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}


def test_given_sams_translation_then_the_pass_role_condition_reaches_the_functions_role(translated):
    (role,) = [
        r for n, r in translated.items() if r["Type"] == "AWS::IAM::Role" and n.startswith("ScheduleTimersFunctionRole")
    ]
    found = [
        s
        for p in role["Properties"]["Policies"]
        for s in statements(p["PolicyDocument"])
        if "iam:PassRole" in as_list(s["Action"])
    ]
    assert [s["Condition"] for s in found] == [{"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}}]


# ====================================================================== 6. roles bound to their pool
def test_given_the_globals_then_every_function_learns_each_pools_issuer_from_the_pool_itself():
    variables = tpl.load()["Globals"]["Function"]["Environment"]["Variables"]
    issuer = "https://cognito-idp.${AWS::Region}.${AWS::URLSuffix}/"  # as Cognito writes iss
    assert variables["WORKFORCE_ISSUER"] == {"Fn::Sub": issuer + "${WorkforceUserPool}"}
    assert variables["PATIENT_ISSUER"] == {"Fn::Sub": issuer + "${UserPool}"}


def test_given_the_groups_then_each_is_bound_to_the_issuer_of_the_pool_that_holds_it():
    from clinic.identity import ISSUER_VARIABLES, POOL_OF_GROUP

    variables = tpl.load()["Globals"]["Function"]["Environment"]["Variables"]
    pool_of_variable = {v: re.search(r"/\$\{(\w+)\}$", sub_text(variables[v])).group(1) for v in ISSUER_VARIABLES}
    groups = {
        r["Properties"]["GroupName"]: r["Properties"]["UserPoolId"]["Ref"]
        for r in resources().values()
        if r["Type"] == "AWS::Cognito::UserPoolGroup"
    }
    assert {group: pool_of_variable[variable] for group, variable in POOL_OF_GROUP.items()} == groups
    # and both pools are the ones the API's authorizer trusts
    authorizer = props("ClinicApi")["Auth"]["Authorizers"]["CognitoAuthorizer"]
    assert set(pool_of_variable.values()) == {arn["Fn::GetAtt"][0] for arn in authorizer["UserPoolArn"]}


def test_given_sams_translation_then_every_function_has_both_issuers(translated):
    functions = {n: r for n, r in translated.items() if r["Type"] == "AWS::Lambda::Function"}
    assert len(functions) == len(routes.ROUTES) + len(workers.WORKERS)
    for name, function in functions.items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert sub_text(variables["WORKFORCE_ISSUER"]).endswith("/${WorkforceUserPool}"), name
        assert sub_text(variables["PATIENT_ISSUER"]).endswith("/${UserPool}"), name


# ------------------------------------------------------------------------------------------------ issue 18
def slot_lock_statements(function: str) -> list[dict]:
    return [
        statement
        for policy in props(function).get("Policies", [])
        for statement in policy["Statement"]
        if statement["Resource"] == {"Fn::GetAtt": ["SlotLocksTable", "Arn"]}
    ]


def leading_keys(statement: dict) -> list[str] | None:
    return statement.get("Condition", {}).get("ForAllValues:StringLike", {}).get("dynamodb:LeadingKeys")


@pytest.mark.parametrize(
    "function, owners, also",
    [
        ("GetPatientFunction", ["doctor#*"], None),  # a doctor's links to patients
        ("FhirReadPatientFunction", ["doctor#*"], None),
        ("SearchPatientsFunction", ["doctor#*"], None),
        ("DoctorAvailabilityFunction", ["doctor#*"], ["resource#*"]),  # a doctor's and the rooms' taken cells
        # the doctor's taken cells (the appointments it affects); the copies of the doctor at its locations
        ("CreateTimeOffFunction", ["doctor#*"], ["location#*"]),
        ("DeleteTimeOffFunction", ["location#*"], None),
        ("JoinWaitlistFunction", ["patient#*"], None),  # the patient's waitlist quota
        ("CreateDoctorFunction", ["location#*"], None),  # the doctors of the locations its hours name
        ("UpdateDoctorFunction", ["location#*"], None),
        ("ListDoctorsFunction", ["location#*"], None),  # ?location_id=: the location's doctors
    ],
)
def test_given_a_function_that_needs_one_owners_slot_lock_items_then_it_is_granted_those_only(function, owners, also):
    statements = slot_lock_statements(function)
    assert statements and all(leading_keys(s) in (owners, also) for s in statements), statements


def test_given_the_slot_locks_table_then_writes_on_every_item_are_granted_only_where_time_moves():
    """UpdateItem on any owner's items only for functions that take or free a doctor's and a patient's
    cells; the others (a status change's counter, a waitlist entry's quota) only their owner's."""
    moving_time = {
        "BookAppointmentFunction",
        "BookSeriesFunction",
        "UpdateAppointmentFunction",
        "CancelAppointmentFunction",
        "CancelSeriesFunction",
        "PlaceHoldFunction",
        "ConfirmHoldFunction",
        "ReleaseHoldFunction",
        "LeaveWaitlistFunction",
        "ExpireHoldFunction",
        "OfferWaitlistFunction",
        "OfferWaitlistOnChangeFunction",
        "FhirAppointmentOperationFunction",  # $hold and $book (a hold, a booking, a cancellation), as the natives
    }
    everywhere = {
        name
        for name, resource in resources().items()
        if resource["Type"] == "AWS::Serverless::Function"
        and any("dynamodb:UpdateItem" in s["Action"] and leading_keys(s) is None for s in slot_lock_statements(name))
    }
    assert everywhere == moving_time

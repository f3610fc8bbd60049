"""Stack rules: resources linked through the dependency graph the engine sends."""

from __future__ import annotations

from pulumi_policy import PolicyResource

from platformkit.policy import RULES

from .helpers import UNKNOWN_STRING, policy_resource, run_stack_rule

VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
LB = "aws:lb/loadBalancer:LoadBalancer"
WAF = "aws:wafv2/webAclAssociation:WebAclAssociation"
DB = "aws:rds/instance:Instance"
PG = "aws:rds/parameterGroup:ParameterGroup"
REPO = "aws:ecr/repository:Repository"
LIFECYCLE = "aws:ecr/lifecyclePolicy:LifecyclePolicy"


def test_every_stack_rule_is_tested_here():
    tested = {
        "vpc-flow-logs-enabled",
        "alb-waf-attached",
        "rds-tls-enforced",
        "ecr-lifecycle-policy",
        "waived-violations",  # tests/policies/test_waivers.py
        # tests/policies/test_gap_rules.py
        "waf-logging-enabled",
        "alb-access-log-retention",
        "s3-public-access-blocked",
        "s3-bucket-not-public",
        "s3-tls-only",
        "s3-encryption",
        "s3-versioning",
        "s3-access-logging",
        "s3-lifecycle",
    }
    assert {r.name for r in RULES if r.kind == "stack"} == tested


def test_vpc_with_flow_log_passes_even_with_unknown_ids():
    vpc = policy_resource(VPC, "core-vpc", {"cidrBlock": "10.0.0.0/16", "id": UNKNOWN_STRING})
    flow = policy_resource(FLOW_LOG, "core-flow-logs", {"vpcId": UNKNOWN_STRING}, {"vpcId": [vpc]})
    assert run_stack_rule("vpc-flow-logs-enabled", [vpc, flow]).violations == []


def test_vpc_without_flow_log_is_reported_against_the_vpc():
    vpc = policy_resource(VPC, "core-vpc", {"cidrBlock": "10.0.0.0/16"})
    other = policy_resource(VPC, "other-vpc", {"cidrBlock": "10.1.0.0/16"})
    flow = policy_resource(FLOW_LOG, "other-flow", {"vpcId": "vpc-2"}, {"vpcId": [other]})
    reporter = run_stack_rule("vpc-flow-logs-enabled", [vpc, other, flow])
    assert [urn for _, urn in reporter.violations] == [vpc.urn]


def test_public_alb_needs_waf_association():
    lb = policy_resource(LB, "web-alb", {"internal": False, "loadBalancerType": "application"})
    internal = policy_resource(LB, "int-alb", {"internal": True})
    assert [u for _, u in run_stack_rule("alb-waf-attached", [lb, internal]).violations] == [lb.urn]
    waf = policy_resource(WAF, "web-waf", {"resourceArn": UNKNOWN_STRING}, {"resourceArn": [lb]})
    assert run_stack_rule("alb-waf-attached", [lb, internal, waf]).violations == []


def _db(engine: str, pg: PolicyResource | None) -> PolicyResource:
    deps = {"parameterGroupName": [pg]} if pg is not None else {}
    props = {"engine": engine, "parameterGroupName": "app-params" if pg is not None else None}
    return policy_resource(DB, "app-db", props, deps)


def test_mysql_with_require_secure_transport_passes():
    pg = policy_resource(
        PG,
        "app-params",
        {
            "family": "mysql8.0",
            "parameters": [
                {"name": "require_secure_transport", "value": "ON", "applyMethod": "immediate"}
            ],
        },
    )
    assert run_stack_rule("rds-tls-enforced", [pg, _db("mysql", pg)]).violations == []


def test_postgres_with_force_ssl_passes_and_mysql_param_fails():
    good = policy_resource(
        PG, "pg-params", {"parameters": [{"name": "rds.force_ssl", "value": "1"}]}
    )
    bad = policy_resource(
        PG, "pg-params", {"parameters": [{"name": "log_connections", "value": "1"}]}
    )
    assert run_stack_rule("rds-tls-enforced", [good, _db("postgres", good)]).violations == []
    reporter = run_stack_rule("rds-tls-enforced", [bad, _db("postgres", bad)])
    assert "rds.force_ssl" in reporter.messages[0]


def test_instance_without_parameter_group_is_reported():
    reporter = run_stack_rule("rds-tls-enforced", [_db("mysql", None)])
    assert "require_secure_transport" in reporter.messages[0]


def test_ecr_repository_needs_lifecycle_policy():
    repo = policy_resource(REPO, "web-repo", {"name": "web"})
    assert run_stack_rule("ecr-lifecycle-policy", [repo]).violations
    policy = policy_resource(
        LIFECYCLE, "web-lc", {"repository": UNKNOWN_STRING}, {"repository": [repo]}
    )
    assert run_stack_rule("ecr-lifecycle-policy", [repo, policy]).violations == []


def test_parameter_group_linked_by_dependency_when_its_name_is_unknown():
    pg = policy_resource(
        PG,
        "app-params",
        {
            "name": UNKNOWN_STRING,
            "parameters": [{"name": "require_secure_transport", "value": "ON"}],
        },
    )
    db = policy_resource(
        DB,
        "app-db",
        {"engine": "mysql", "parameterGroupName": UNKNOWN_STRING},
        {"parameterGroupName": [pg]},
    )
    assert run_stack_rule("rds-tls-enforced", [pg, db]).violations == []

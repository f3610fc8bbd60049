import pulumi
import pulumi_aws as aws

role = aws.iam.Role("fn-role", assume_role_policy="{}")
fn = aws.lambda_.Function(
    "fn",
    role=role.arn,
    runtime="python3.12",
    handler="handler.handler",
    code=pulumi.AssetArchive({"handler.py": pulumi.StringAsset("def handler(e, c): return 1")}),
)
api = aws.apigatewayv2.Api("http", protocol_type="HTTP")
integration = aws.apigatewayv2.Integration(
    "fn", api_id=api.id, integration_type="AWS_PROXY", integration_uri=fn.invoke_arn
)
aws.apigatewayv2.Route(
    "get",
    api_id=api.id,
    route_key="GET /",
    target=integration.id.apply(lambda i: "integrations/" + i),
)
stage = aws.apigatewayv2.Stage("default", api_id=api.id, name="$default", auto_deploy=True)
aws.lambda_.Permission(
    "invoke",
    action="lambda:InvokeFunction",
    function=fn.name,
    principal="apigateway.amazonaws.com",
    source_arn=pulumi.Output.concat(api.execution_arn, "/*/*"),
)
pulumi.export("url", api.api_endpoint.apply(lambda e: e + "/"))

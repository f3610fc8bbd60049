import pulumi
import pulumi_aws as aws

api = aws.apigateway.RestApi("api")
resource = aws.apigateway.Resource(
    "hello", rest_api=api.id, parent_id=api.root_resource_id, path_part="hello"
)
method = aws.apigateway.Method(
    "get", rest_api=api.id, resource_id=resource.id, http_method="GET", authorization="NONE"
)
aws.apigateway.Integration(
    "mock", rest_api=api.id, resource_id=resource.id, http_method=method.http_method, type="MOCK"
)
deployment = aws.apigateway.Deployment(
    "deployment", rest_api=api.id, opts=pulumi.ResourceOptions(depends_on=[method])
)
stage = aws.apigateway.Stage("prod", rest_api=api.id, deployment=deployment.id, stage_name="prod")
aws.lambda_.Permission(
    "invoke",
    action="lambda:InvokeFunction",
    function="existing-function",
    principal="apigateway.amazonaws.com",
    source_arn=stage.execution_arn.apply(lambda arn: f"{arn}/*/*"),
)
pulumi.export("endpoint", pulumi.Output.concat(stage.invoke_url, "/hello"))

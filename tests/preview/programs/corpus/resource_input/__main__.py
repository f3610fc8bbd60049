import pulumi_aws as aws

role = aws.iam.Role("app", assume_role_policy="{}")
aws.iam.RolePolicy("app-inline", role=role, policy="{}")
aws.iam.RolePolicyAttachment("app-basic", role=role, policy_arn="arn:aws:iam::aws:policy/ReadOnly")

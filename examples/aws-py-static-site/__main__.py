"""A static website: a private S3 bucket served by CloudFront through an origin access control.

A plain Pulumi program using only ``pulumi`` and ``pulumi_aws``; ``platformkit preview`` runs
it unchanged, the way it runs any Pulumi Python program.
"""

import mimetypes
from pathlib import Path

import pulumi
import pulumi_aws as aws

config = pulumi.Config()
index_document = config.get("indexDocument") or "index.html"
price_class = config.get("priceClass") or "PriceClass_100"
log_retention_days = config.get_int("logRetentionDays") or 30

SITE_DIR = Path("www")
ORIGIN_ID = "site-bucket-origin"
# AWS's managed "CachingOptimized" cache policy.
CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6"

site_bucket = aws.s3.Bucket("site-bucket", force_destroy=True)

# The bucket stays private: only CloudFront reads it, through the bucket policy below.
aws.s3.BucketPublicAccessBlock(
    "site-public-access-block",
    bucket=site_bucket.id,
    block_public_acls=True,
    block_public_policy=True,
    ignore_public_acls=True,
    restrict_public_buckets=True,
)

aws.s3.BucketServerSideEncryptionConfiguration(
    "site-encryption",
    bucket=site_bucket.id,
    rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
)

for path in sorted(SITE_DIR.rglob("*")):
    if path.is_file():
        key = path.relative_to(SITE_DIR).as_posix()
        aws.s3.BucketObject(
            f"site-object-{key.replace('/', '-')}",
            bucket=site_bucket.id,
            key=key,
            source=pulumi.FileAsset(str(path)),
            content_type=mimetypes.guess_type(key)[0] or "application/octet-stream",
        )

log_bucket = aws.s3.Bucket("log-bucket", force_destroy=True)

# CloudFront standard logging writes with ACLs, which need the owner-preferred setting.
aws.s3.BucketOwnershipControls(
    "log-ownership",
    bucket=log_bucket.id,
    rule={"object_ownership": "BucketOwnerPreferred"},
)

aws.s3.BucketLifecycleConfiguration(
    "log-expiry",
    bucket=log_bucket.id,
    rules=[
        {
            "id": "expire-access-logs",
            "status": "Enabled",
            "filter": {"prefix": "cdn/"},
            "expiration": {"days": log_retention_days},
        }
    ],
)

origin_access_control = aws.cloudfront.OriginAccessControl(
    "site-oac",
    origin_access_control_origin_type="s3",
    signing_behavior="always",
    signing_protocol="sigv4",
)

cdn = aws.cloudfront.Distribution(
    "cdn",
    enabled=True,
    is_ipv6_enabled=True,
    default_root_object=index_document,
    price_class=price_class,
    origins=[
        {
            "origin_id": ORIGIN_ID,
            "domain_name": site_bucket.bucket_regional_domain_name,
            "origin_access_control_id": origin_access_control.id,
        }
    ],
    default_cache_behavior={
        "target_origin_id": ORIGIN_ID,
        "viewer_protocol_policy": "redirect-to-https",
        "allowed_methods": ["GET", "HEAD", "OPTIONS"],
        "cached_methods": ["GET", "HEAD"],
        "compress": True,
        "cache_policy_id": CACHING_OPTIMIZED_POLICY_ID,
    },
    custom_error_responses=[
        {"error_code": 404, "response_code": 404, "response_page_path": "/error.html"}
    ],
    restrictions={"geo_restriction": {"restriction_type": "none"}},
    viewer_certificate={"cloudfront_default_certificate": True},
    logging_config={
        "bucket": log_bucket.bucket_domain_name,
        "prefix": "cdn/",
        "include_cookies": False,
    },
)

# Only this distribution may read the site's objects.
read_policy = pulumi.Output.json_dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowCloudFrontRead",
                "Effect": "Allow",
                "Principal": {"Service": "cloudfront.amazonaws.com"},
                "Action": "s3:GetObject",
                "Resource": site_bucket.arn.apply(lambda arn: f"{arn}/*"),
                "Condition": {"StringEquals": {"AWS:SourceArn": cdn.arn}},
            }
        ],
    }
)

aws.s3.BucketPolicy("site-policy", bucket=site_bucket.id, policy=read_policy)

pulumi.export("bucketName", site_bucket.bucket)
pulumi.export("bucketArn", site_bucket.arn)
pulumi.export("cdnDomainName", cdn.domain_name)
pulumi.export("url", cdn.domain_name.apply(lambda domain: f"https://{domain}"))

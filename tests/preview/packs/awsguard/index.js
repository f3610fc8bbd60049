// AWSGuard with every policy at the level its authors chose (most are advisory); the
// platformkit tests run it beside the Python pack with `--policy-pack A --policy-pack B`.
const { AwsGuard } = require("@pulumi/awsguard");

new AwsGuard();

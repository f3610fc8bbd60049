// A payments API built from platformkit's components, in TypeScript. Each component is the
// Python library's own, run by the component package (../../provider); a component takes
// another's `ref` output, the way a Python program passes the component itself.
import * as pulumi from "@pulumi/pulumi";
import * as platformkit from "@pulumi/platformkit";

const config = new pulumi.Config();

const network = new platformkit.Network("core", {
    azCount: 2,
    natStrategy: "single",
    owner: "payments",
});

const cluster = new platformkit.Cluster("apps", {
    network: network.ref,
    waf: false,
    owner: "payments",
});

const database = new platformkit.Database("ledger", {
    network: network.ref,
    engine: "postgres",
    multiAz: false,
    deletionProtection: false,
    owner: "payments",
});

const api = new platformkit.WebService("api", {
    cluster: cluster.ref,
    database: database.ref,
    image: config.require("image"),
    desiredCount: 1,
    minCount: 1,
    maxCount: 4,
    owner: "payments",
});

export const url = api.url;
export const vpcId = network.vpcId;
export const databaseEndpoint = database.endpoint;

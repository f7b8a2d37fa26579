// The legacy stack of examples/legacy-stack, in TypeScript: CAs named by hand, as most programs written before the
// 2024 rotation do. `rdsca check examples/ts-legacy-stack --policy-pack policies` blocks it (after `npm install`).
import * as aws from "@pulumi/aws";

// Still on the 2019 CA: a deployment naming it now fails with "Certificate not found: rds-ca-2019".
new aws.rds.Instance("billing-mysql", {
    engine: "mysql",
    engineVersion: "8.0.39",
    instanceClass: "db.t4g.medium",
    allocatedStorage: 50,
    username: "billing",
    manageMasterUserPassword: true,
    caCertIdentifier: "rds-ca-2019",
});

// An Aurora PostgreSQL cluster; its instances carry the CA, one of them with a typo ("gl" for "g1").
const cluster = new aws.rds.Cluster("reports", {
    engine: "aurora-postgresql",
    engineVersion: "16.4",
    masterUsername: "reports",
    manageMasterUserPassword: true,
    skipFinalSnapshot: true,
});
["rds-ca-rsa2048-g1", "rds-ca-rsa2048-gl"].forEach((ca, i) => {
    new aws.rds.ClusterInstance(`reports-${i}`, {
        clusterIdentifier: cluster.id,
        engine: "aurora-postgresql",
        engineVersion: "16.4",
        instanceClass: "db.r6g.large",
        caCertIdentifier: ca,
    });
});

// SQL Server does not support the ECC384 CA: RDS would reject this modification.
new aws.rds.Instance("erp-sqlserver", {
    engine: "sqlserver-se",
    licenseModel: "license-included",
    instanceClass: "db.m6i.xlarge",
    allocatedStorage: 200,
    username: "erp",
    manageMasterUserPassword: true,
    caCertIdentifier: "rds-ca-ecc384-g1",
    applyImmediately: true,
});

// DocumentDB on the 2019 CA.
const docs = new aws.docdb.Cluster("catalog", {
    engine: "docdb",
    engineVersion: "5.0.0",
    masterUsername: "catalog",
    manageMasterUserPassword: true,
    skipFinalSnapshot: true,
});
new aws.docdb.ClusterInstance("catalog-0", {
    clusterIdentifier: docs.id,
    instanceClass: "db.r6g.large",
    caCertIdentifier: "rds-ca-2019",
});

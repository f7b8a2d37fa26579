"""A legacy stack: CAs named by hand, as most programs written before the 2024 rotation do.

`rdsca check examples/legacy-stack --policy-pack policies` blocks it: rds-ca-2019 expired in August 2024 (AWS
answers CertificateNotFound, so `pulumi up` fails), one CA id has a typo, and SQL Server refuses the ECC384 CA.
With `--remediate` the pack rewrites each of them and the check passes.
"""

import pulumi_aws as aws

# Still on the 2019 CA: a deployment naming it now fails with "Certificate not found: rds-ca-2019".
aws.rds.Instance(
    "billing-mysql",
    engine="mysql",
    engine_version="8.0.39",
    instance_class="db.t4g.medium",
    allocated_storage=50,
    username="billing",
    manage_master_user_password=True,
    ca_cert_identifier="rds-ca-2019",
)

# An Aurora PostgreSQL cluster; its instances carry the CA, one of them with a typo ("gl" for "g1").
cluster = aws.rds.Cluster(
    "reports",
    engine="aurora-postgresql",
    engine_version="16.4",
    master_username="reports",
    manage_master_user_password=True,
    skip_final_snapshot=True,
)
for i, ca in enumerate(["rds-ca-rsa2048-g1", "rds-ca-rsa2048-gl"]):
    aws.rds.ClusterInstance(
        f"reports-{i}",
        cluster_identifier=cluster.id,
        engine="aurora-postgresql",
        engine_version="16.4",
        instance_class="db.r6g.large",
        ca_cert_identifier=ca,
    )

# SQL Server does not support the ECC384 CA: RDS would reject this modification.
aws.rds.Instance(
    "erp-sqlserver",
    engine="sqlserver-se",
    license_model="license-included",
    instance_class="db.m6i.xlarge",
    allocated_storage=200,
    username="erp",
    manage_master_user_password=True,
    ca_cert_identifier="rds-ca-ecc384-g1",
    apply_immediately=True,
)

# DocumentDB on the 2019 CA.
docs = aws.docdb.Cluster(
    "catalog",
    engine="docdb",
    engine_version="5.0.0",
    master_username="catalog",
    manage_master_user_password=True,
    skip_final_snapshot=True,
)
aws.docdb.ClusterInstance(
    "catalog-0",
    cluster_identifier=docs.id,
    instance_class="db.r6g.large",
    ca_cert_identifier="rds-ca-2019",
)

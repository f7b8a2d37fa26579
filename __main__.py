"""Reference stack: a realistic fleet put on a current RDS CA by rdsca's CertificateRotation component.

Every database below ``rotation`` gets the CA, fallback and apply mode from stack config. Master passwords are
managed by AWS Secrets Manager (``manage_master_user_password``), so the stack holds no secret.
"""

import pulumi
import pulumi_aws as aws

from rdsca import CertificateRotation

config = pulumi.Config()
rotation = CertificateRotation(
    "ca-rotation",
    ca_identifier=config.get("caIdentifier") or "rds-ca-rsa2048-g1",
    fallback_ca=config.get("fallbackCa"),
    # Unset: AWS's rotation guide decides per database (a retired or expired CA now, a restart in the window).
    apply_immediately=config.get_bool("applyImmediately"),
    restart=config.get("restart") or "auto",
)
under_rotation = pulumi.ResourceOptions(parent=rotation)

# Aurora PostgreSQL: the CA is set on each cluster instance, never on the cluster.
aurora = aws.rds.Cluster(
    "orders-aurora",
    engine="aurora-postgresql",
    engine_version="16.4",
    master_username="orders",
    manage_master_user_password=True,
    skip_final_snapshot=True,
    opts=under_rotation,
)
for index in range(2):
    aws.rds.ClusterInstance(
        f"orders-aurora-{index}",
        cluster_identifier=aurora.id,
        instance_class="db.r6g.large",
        engine="aurora-postgresql",
        engine_version="16.4",
        opts=under_rotation,
    )

mysql = aws.rds.Instance(
    "billing-mysql",
    engine="mysql",
    engine_version="8.0.39",
    instance_class="db.t4g.medium",
    allocated_storage=50,
    username="billing",
    manage_master_user_password=True,
    skip_final_snapshot=True,
    opts=under_rotation,
)

sqlserver = aws.rds.Instance(
    "reports-sqlserver",
    engine="sqlserver-se",
    engine_version="15.00.4236.7.v1",
    license_model="license-included",
    instance_class="db.m5.large",
    allocated_storage=100,
    username="reports",
    manage_master_user_password=True,
    skip_final_snapshot=True,
    opts=under_rotation,
)

# Multi-AZ DB cluster (not Aurora): one writer and two readable standbys; the CA is set on the cluster.
multi_az = aws.rds.Cluster(
    "ledger-multiaz",
    engine="postgres",
    engine_version="16.4",
    db_cluster_instance_class="db.m6gd.large",
    storage_type="io1",
    allocated_storage=100,
    iops=1000,
    master_username="ledger",
    manage_master_user_password=True,
    skip_final_snapshot=True,
    opts=under_rotation,
)

docdb = aws.docdb.Cluster(
    "catalog-docdb",
    engine="docdb",
    engine_version="5.0.0",
    master_username="catalog",
    manage_master_user_password=True,
    skip_final_snapshot=True,
    opts=under_rotation,
)
aws.docdb.ClusterInstance(
    "catalog-docdb-0",
    cluster_identifier=docdb.id,
    instance_class="db.r6g.large",
    opts=under_rotation,
)

pulumi.export("mysqlEndpoint", mysql.endpoint)
pulumi.export("auroraEndpoint", aurora.endpoint)

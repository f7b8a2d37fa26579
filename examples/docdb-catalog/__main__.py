"""Product catalog: DocumentDB 5.0, one instance per availability zone, under a CertificateRotation component.

DocumentDB 5.0 accepts the ECC384 CA (3.6 does not): the component sets it on every instance below it.
"""

import pulumi
import pulumi_aws as aws

from rdsca import CertificateRotation

account = aws.get_caller_identity()
zones = aws.get_availability_zones(state="available")
vpc = aws.ec2.get_vpc(default=True)
subnets = aws.ec2.get_subnets(
    filters=[
        {"name": "vpc-id", "values": [vpc.id]},
        {"name": "default-for-az", "values": ["true"]},
    ]
)

rotation = CertificateRotation("catalog-ca", ca_identifier="rds-ca-ecc384-g1", fallback_ca="rds-ca-rsa4096-g1")
below_rotation = pulumi.ResourceOptions(parent=rotation)

subnet_group = aws.docdb.SubnetGroup("catalog", subnet_ids=subnets.ids, opts=below_rotation)
parameters = aws.docdb.ClusterParameterGroup(
    "catalog",
    family="docdb5.0",
    parameters=[{"name": "tls", "value": "enabled"}],
    opts=below_rotation,
)

cluster = aws.docdb.Cluster(
    "catalog",
    engine="docdb",
    engine_version="5.0.0",
    master_username="catalog",
    manage_master_user_password=True,
    db_subnet_group_name=subnet_group.name,
    db_cluster_parameter_group_name=parameters.name,
    availability_zones=zones.names[:3],
    storage_encrypted=True,
    skip_final_snapshot=True,
    tags={"owner": account.account_id},
    opts=below_rotation,
)

for zone in zones.names[:3]:
    aws.docdb.ClusterInstance(
        f"catalog-{zone}",
        cluster_identifier=cluster.id,
        instance_class="db.r6g.large",
        availability_zone=zone,
        opts=below_rotation,
    )

pulumi.export("endpoint", cluster.endpoint)

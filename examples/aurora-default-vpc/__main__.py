"""Orders service: Aurora PostgreSQL in the default VPC, spread over the region's availability zones.

Looks up what most real programs look up instead of hard-coding it: the default VPC and its subnets, the
availability zones, the latest Amazon Linux AMI for a bastion host, and the account id for a KMS key policy.
One line at the top puts every database on a current CA.
"""

import json

import pulumi
import pulumi_aws as aws

from rdsca import rotate_all

rotate_all(ca_identifier="rds-ca-rsa4096-g1", restart="avoid")

config = pulumi.Config()
instance_count = config.get_int("instanceCount") or 2

account = aws.get_caller_identity()
zones = aws.get_availability_zones(state="available")
vpc = aws.ec2.get_vpc(default=True)
subnets = aws.ec2.get_subnets(filters=[{"name": "vpc-id", "values": [vpc.id]}])

key = aws.kms.Key(
    "orders-data",
    description="Encrypts the orders database",
    enable_key_rotation=True,
    policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AccountAdmin",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account.account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ],
        }
    ),
)

database_sg = aws.ec2.SecurityGroup(
    "orders-db",
    vpc_id=vpc.id,
    description="PostgreSQL from inside the VPC",
    ingress=[{"protocol": "tcp", "from_port": 5432, "to_port": 5432, "cidr_blocks": [vpc.cidr_block]}],
)

subnet_group = aws.rds.SubnetGroup("orders", subnet_ids=subnets.ids[:3])

cluster = aws.rds.Cluster(
    "orders",
    engine="aurora-postgresql",
    engine_version="16.4",
    database_name="orders",
    master_username="orders_admin",
    manage_master_user_password=True,
    db_subnet_group_name=subnet_group.name,
    vpc_security_group_ids=[database_sg.id],
    availability_zones=zones.names[:3],
    storage_encrypted=True,
    kms_key_id=key.arn,
    skip_final_snapshot=True,
)

for index in range(instance_count):
    aws.rds.ClusterInstance(
        f"orders-{index}",
        cluster_identifier=cluster.id,
        engine="aurora-postgresql",
        engine_version="16.4",
        instance_class="db.r6g.large",
        availability_zone=zones.names[index % len(zones.names)],
        db_subnet_group_name=subnet_group.name,
    )

bastion_ami = aws.ec2.get_ami(
    most_recent=True,
    owners=["amazon"],
    filters=[{"name": "name", "values": ["al2023-ami-2023.*-arm64"]}],
)
aws.ec2.Instance(
    "orders-bastion",
    ami=bastion_ami.id,
    instance_type="t4g.micro",
    subnet_id=subnets.ids[0],
    tags={"Name": f"orders-bastion-{zones.names[0]}"},
)

pulumi.export("writer_endpoint", cluster.endpoint)

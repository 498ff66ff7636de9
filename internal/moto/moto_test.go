package moto

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// TestServesEC2: the server answers the real EC2 API through aws-sdk-go-v2,
// and what it creates is what DescribeVpcs lists.
func TestServesEC2(t *testing.T) {
	s, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()
	ctx := context.Background()
	c := ec2.NewFromConfig(s.AWSConfig())
	before, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Vpc.VpcId)
	if id == "" {
		t.Fatal("CreateVpc returned no VpcId")
	}
	after, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Vpcs) != len(before.Vpcs)+1 {
		t.Errorf("DescribeVpcs lists %d VPCs after one CreateVpc, want %d", len(after.Vpcs), len(before.Vpcs)+1)
	}
	one, err := c.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{VpcIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	if len(one.Vpcs) != 1 || aws.ToString(one.Vpcs[0].VpcId) != id {
		t.Errorf("DescribeVpcs(%s) = %+v, want that VPC", id, one.Vpcs)
	}
}

package capture

import (
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func statusFile(t *testing.T, y string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := yaml.Unmarshal([]byte(y), &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSelectStatus(t *testing.T) {
	lb := Rule{Name: "lb", Match: Match{APIGroups: []string{""}, Kinds: []string{"Service"}, HasFields: paths("status.loadBalancer.ingress")},
		Fields: paths("status.loadBalancer")}
	arn := Rule{Name: "arn", Match: Match{APIGroups: []string{"*.aws.upbound.io"}, Kinds: []string{"Bucket"}, Namespaces: []string{"prod"}},
		Fields: paths("status.atProvider.arn", "status.conditions"), Exclude: paths("status.conditions[*].lastTransitionTime")}
	rules := []Rule{lb, arn}
	tests := []struct {
		name    string
		file    string
		want    map[string]any
		refused []string
		matched bool
	}{{
		name:    "selected whole (HasFields is not checked: the rebuilt object has no status yet)",
		file:    "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: prod}\nstatus: {loadBalancer: {ingress: [{ip: 10.0.0.9}]}}\n",
		want:    map[string]any{"loadBalancer": map[string]any{"ingress": []any{map[string]any{"ip": "10.0.0.9"}}}},
		matched: true,
	}, {
		name:    "a kind no rule matches is refused whole",
		file:    "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus: {conditions: [{type: Ready, status: 'False'}]}\n",
		refused: []string{"status"},
	}, {
		name:    "a namespace the rule does not match is refused whole",
		file:    "apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata: {name: b, namespace: dev}\nstatus: {atProvider: {arn: 'arn:1'}}\n",
		refused: []string{"status"},
	}, {
		name: "fields outside the rule and excluded fields are refused, the rest kept",
		file: "apiVersion: s3.aws.upbound.io/v1beta1\nkind: Bucket\nmetadata: {name: b, namespace: prod}\n" +
			"status: {atProvider: {arn: 'arn:1', id: x}, conditions: [{type: Ready, status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z'}], ready: true}\n",
		want: map[string]any{"atProvider": map[string]any{"arn": "arn:1"},
			"conditions": []any{map[string]any{"type": "Ready", "status": "True"}}},
		refused: []string{"status.atProvider.id", "status.conditions[0].lastTransitionTime", "status.ready"},
		matched: true,
	}, {
		name:    "a matched kind with only unselected fields keeps nothing",
		file:    "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: prod}\nstatus: {conditions: [{type: X, status: 'True'}]}\n",
		refused: []string{"status.conditions[0].status", "status.conditions[0].type"},
		matched: true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := SelectStatus(rules, statusFile(t, tt.file))
			if !reflect.DeepEqual(got.Status, tt.want) {
				t.Errorf("Status = %#v, want %#v", got.Status, tt.want)
			}
			if !reflect.DeepEqual(got.Refused, tt.refused) {
				t.Errorf("Refused = %q, want %q", got.Refused, tt.refused)
			}
			if got.KindMatched != tt.matched {
				t.Errorf("KindMatched = %v, want %v", got.KindMatched, tt.matched)
			}
		})
	}
	if got := SelectStatus(nil, statusFile(t, tests[0].file)); got.Status != nil || len(got.Refused) != 1 {
		t.Errorf("no rules must refuse everything, got %+v", got)
	}
}

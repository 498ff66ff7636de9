package benchenv

import (
	"reflect"
	"strings"
	"testing"
)

func TestObjects(t *testing.T) {
	for _, tc := range []struct {
		env     string
		want    []int
		wantErr string
	}{
		{"", []int{1, 2}, ""},
		{"10000", []int{10000}, ""},
		{" 2000, 10000 ", []int{2000, 10000}, ""},
		{"10k", nil, `"10k" is not allowed`},
		{"0", nil, `"0" is not allowed`},
	} {
		t.Setenv(ObjectsVar, tc.env)
		got, err := Objects(1, 2)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), ObjectsVar) {
				t.Errorf("%q: err = %v, want %q naming %s", tc.env, err, tc.wantErr, ObjectsVar)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %v, %v; want %v", tc.env, got, err, tc.want)
		}
	}
}

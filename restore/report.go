package restore

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/driftback/driftback/capture"
)

// Print writes one line per object that needed (or needs) work, every
// failure, and the totals.
func (s Summary) Print(w io.Writer) {
	for _, r := range s.Results {
		switch r.Outcome {
		case AlreadyEqual:
			continue
		case Missing, Failed:
			fmt.Fprintf(w, "%-13s %s: %v\n", r.Outcome, r.Object, r.Err)
		default:
			fmt.Fprintf(w, "%-13s %s (%d field(s))\n", r.Outcome, r.Object, len(r.Fields))
			for _, l := range r.Fields {
				fmt.Fprintf(w, "    %s = %s\n", l.Path, shown(l.Path, l.Value))
			}
		}
	}
	for _, r := range s.Refused {
		fmt.Fprintln(w, r)
	}
	fmt.Fprintf(w, "restore: %d restored, %d would restore, %d already equal, %d missing, %d failed, %d field(s) refused (%s)\n",
		s.Count(Restored), s.Count(WouldRestore), s.Count(AlreadyEqual), s.Count(Missing), s.Count(Failed), len(s.Refused), s.Elapsed.Round(time.Millisecond))
}

// shown is short(v), or (hidden) when a key on the field path looks like a
// credential: a restore's or drill's report is read in CI logs.
func shown(path string, v any) string {
	if v == nil {
		return short(v)
	}
	for _, k := range strings.FieldsFunc(path, func(r rune) bool { return r == '.' || r == '[' || r == ']' || r == '"' }) {
		if capture.LooksLikeCredential(k) {
			return "(hidden)"
		}
	}
	return short(v)
}

// short prints a value on one line, cut when long.
func short(v any) string {
	s := fmt.Sprintf("%v", v)
	if str, ok := v.(string); ok {
		s = fmt.Sprintf("%q", str)
	}
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

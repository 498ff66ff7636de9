package capture

// pruneEmpty removes, in place, the values of m that carry no state: nil,
// empty maps and empty lists, recursively (a map left empty by the pruning
// goes too). A ClusterIP Service's status.loadBalancer is {} and must not
// become a capture, and a nil in a patch would delete the field on apply.
//
// A list is dropped when every element prunes to nothing; otherwise its
// elements keep their positions (an emptied element stays as {}) because a
// list patch is positional.
func pruneEmpty(m map[string]any) {
	for k, v := range m {
		if pv, keep := pruneValue(v); keep {
			m[k] = pv
		} else {
			delete(m, k)
		}
	}
}

func pruneValue(v any) (any, bool) {
	switch x := v.(type) {
	case nil:
		return nil, false
	case map[string]any:
		pruneEmpty(x)
		return x, len(x) > 0
	case []any:
		found := false
		for i, e := range x {
			pe, keep := pruneValue(e)
			if keep {
				x[i] = pe
				found = true
			} else {
				x[i] = map[string]any{}
			}
		}
		return x, found
	}
	return v, true
}

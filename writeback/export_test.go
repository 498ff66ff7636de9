package writeback

// BaseBuilds is how many times the writer indexed the base with krusty.
func (w *Writer) BaseBuilds() int { return w.base.builds }

"""Templates (saved queries + paper layouts), their store, xlsx writing, fill sheets, signed download links."""

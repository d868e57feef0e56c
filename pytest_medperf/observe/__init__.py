"""What the kit watches without judging it: network attempts, log evidence, links in
outputs, file-tree fingerprints. The checks read these facts."""

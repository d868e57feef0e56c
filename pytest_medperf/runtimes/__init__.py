"""Container runtimes (Docker, Singularity) behind one Runner protocol (base.py): a
RunSpec in, a RunResult out; and how a site gets the image (registry, archives,
decryption), GPUs, log streaming and whose leftovers may be removed."""

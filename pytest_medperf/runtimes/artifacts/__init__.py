"""The image a site runs, got the way a site gets it: from a registry by digest, from a
`docker save` archive, or decrypted with gpg as MedPerf decrypts it."""

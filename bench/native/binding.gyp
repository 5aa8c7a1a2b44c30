# The native baseline of bench/attach-scale.ts (shm_cycle.c), built by that script with node-gyp into
# .cache/attach-scale/, against the headers of the Node that runs it. Not part of the library.
{
  "targets": [
    {
      "target_name": "shm_cycle",
      "sources": ["shm_cycle.c"],
      "cflags": ["-O2"]
    }
  ]
}

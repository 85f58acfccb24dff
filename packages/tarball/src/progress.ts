/** How far a long write has got, in bytes of output. */
export interface Progress {
  /** Bytes written so far. */
  complete: number;
  /** Bytes the whole output will have, when known in advance. */
  total: number | undefined;
}

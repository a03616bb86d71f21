/** Types for the `diff3` package (v0.0.4, CommonJS, ships none): a line-based three-way merge. */
declare module 'diff3' {
  namespace diff3 {
    interface OkBlock<T> {
      ok: T[];
    }
    interface ConflictBlock<T> {
      conflict: { a: T[]; aIndex: number; o: T[]; oIndex: number; b: T[]; bIndex: number };
    }
    type Block<T> = OkBlock<T> | ConflictBlock<T>;
  }
  /** Merge `a` and `b`, both derived from `o`; returns alternating ok and conflict blocks. */
  function diff3<T>(a: T[], o: T[], b: T[]): diff3.Block<T>[];
  export = diff3;
}

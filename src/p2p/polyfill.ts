/**
 * libp2p 3.x calls `Promise.withResolvers` (Node 22+, ES2024) without declaring it; on Node 20 the
 * first dial fails with "Promise.withResolvers is not a function". This module must be evaluated
 * before any libp2p module runs, so `node.ts` imports it first (esbuild keeps import order).
 * It is a no-op where the method exists.
 */
interface Resolvers<T> {
  promise: Promise<T>;
  resolve: (value: T | PromiseLike<T>) => void;
  reject: (reason?: unknown) => void;
}

const P = Promise as unknown as { withResolvers?: <T>() => Resolvers<T> };

if (typeof P.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers<T>(this: PromiseConstructor): Resolvers<T> {
      let resolve!: Resolvers<T>['resolve'];
      let reject!: Resolvers<T>['reject'];
      // `this` keeps subclass semantics (`MyPromise.withResolvers()`), as the spec does.
      const Ctor = (typeof this === 'function' ? this : Promise) as PromiseConstructor;
      const promise = new Ctor<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export {};

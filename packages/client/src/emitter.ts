/** A tiny typed event emitter: the engine's only way of talking to the application. */
export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<(event: never) => void>>();

  /** Adds a listener; returns a function that removes it. */
  on<E extends keyof Events>(name: E, listener: (event: Events[E]) => void): () => void {
    let set = this.#listeners.get(name);
    if (!set) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener as (event: never) => void);
    return () => this.off(name, listener);
  }

  off<E extends keyof Events>(name: E, listener: (event: Events[E]) => void): void {
    this.#listeners.get(name)?.delete(listener as (event: never) => void);
  }

  /** Calls every listener; a throwing listener is reported, never breaks the upload. */
  emit<E extends keyof Events>(name: E, event: Events[E]): void {
    const set = this.#listeners.get(name);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as (event: Events[E]) => void)(event);
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

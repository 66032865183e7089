/** Errors a recipe raises itself (bad input, misuse, a client that can no longer serve it). */
export class RecipeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecipeError';
  }
}

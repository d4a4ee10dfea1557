// The one error class of the backbones module: a backbone that cannot be found, downloaded, verified or
// loaded. Its message is one line naming the problem and the fix; pets-train reports it as a user error.

export class BackboneError extends Error {
  override name = 'BackboneError';
}

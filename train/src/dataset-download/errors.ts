// The one error class of the dataset download: an archive that cannot be fetched, verified or extracted.
// Its message is one line naming the problem and the fix; pets-train reports it as a user error.

export class DatasetDownloadError extends Error {
  override name = 'DatasetDownloadError';
}

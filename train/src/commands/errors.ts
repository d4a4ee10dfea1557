// The error classes pets-train's users can cause; the reporting itself is @pets/runtime/cli-errors'.
export const TRAIN_USER_ERRORS = [
  'DatasetError',
  'TrainOptionsError',
  'CheckpointError',
  'BackendUnavailableError',
  'ImageSizeError',
  'BatchMemoryError',
  'BackboneError',
  'TransferModelError',
  'DatasetDownloadError',
];

// The error classes pets-export's users can cause; the reporting itself is @pets/runtime/cli-errors'.
export const EXPORT_USER_ERRORS = [
  'ExportError',
  'UnsupportedLayerError',
  'VerificationError',
  'CheckpointError',
  'BackendUnavailableError',
  'DatasetError',
  'UnsupportedOpError',
];

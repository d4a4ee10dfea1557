// Named errors of the exporter, for callers (and the CLI) that branch on them.

/** The tfjs model has a layer (or a layer setting) the exporter has no ONNX translation for. */
export class UnsupportedLayerError extends Error {
  override name = 'UnsupportedLayerError';
  /** tfjs class name of the layer, e.g. "LSTM". */
  readonly className: string;
  /** The layer's name in the model. */
  readonly layerName: string;

  /** `supported`: the classes to list when the class itself has no translation (no `reason`). */
  constructor(className: string, layerName: string, reason?: string, supported?: readonly string[]) {
    super(
      reason
        ? `Layer "${layerName}" (${className}) cannot be exported: ${reason}.`
        : `Layer "${layerName}" has class ${className}, which pets-export cannot translate to ONNX.${supported ? ` Supported: ${supported.join(', ')}.` : ''}`,
    );
    this.className = className;
    this.layerName = layerName;
  }
}

/** The tfjs graph model has a node whose op (or op setting) the exporter has no ONNX translation for. */
export class UnsupportedOpError extends Error {
  override name = 'UnsupportedOpError';
  /** TensorFlow op name, e.g. "NonMaxSuppressionV5". */
  readonly op: string;
  /** The node's name in the GraphDef. */
  readonly nodeName: string;

  /** `supported`: the ops to list when the op itself has no translation (no `reason`). */
  constructor(op: string, nodeName: string, reason?: string, supported?: readonly string[]) {
    super(
      reason
        ? `Node "${nodeName}" (${op}) cannot be exported: ${reason}.`
        : `Node "${nodeName}" has op ${op}, which pets-export cannot translate to ONNX.${supported ? ` Supported: ${supported.join(', ')}.` : ''}`,
    );
    this.op = op;
    this.nodeName = nodeName;
  }
}

/** A problem with the run, the output path or the model's shape; the message says what to do. */
export class ExportError extends Error {
  override name = 'ExportError';
}

/** The exported model does not give tfjs' probabilities within tolerance; nothing is left at the output path. */
export class VerificationError extends Error {
  override name = 'VerificationError';
}

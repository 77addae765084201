// Minimal ONNX writer: a hand-rolled protobuf encoder for the subset of onnx.proto
// that a static inference graph needs. Field numbers follow onnx/onnx.proto (IR 8).

export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9 } as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

export type Dim = number | string;

export interface ValueInfo {
  name: string;
  elemType: DataType;
  shape: Dim[];
}

/** Where a tensor's bytes sit in the model's external-data file (onnx.proto's `external_data` keys). */
export interface ExternalData {
  location: string;
  offset: number;
  length: number;
}

/** An initializer: its bytes inline (`raw`), or in an external-data file. */
export type Tensor = { name: string; dataType: DataType; dims: number[] } & ({ raw: Uint8Array } | { external: ExternalData });

export type Attribute =
  | { kind: 'float'; value: number }
  | { kind: 'int'; value: number }
  | { kind: 'ints'; value: number[] }
  | { kind: 'tensor'; value: Tensor }
  | { kind: 'graph'; value: Graph };

export interface Node {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, Attribute>;
}

export interface Graph {
  name: string;
  nodes: Node[];
  initializers: Tensor[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
}

export interface Model {
  irVersion: number;
  opsetVersion: number;
  producerName: string;
  producerVersion: string;
  graph: Graph;
}

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

const textEncoder = new TextEncoder();

function concat(parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

// int64 fields are encoded as two's complement in 64 bits, so negative values
// (e.g. axis = -1) take ten bytes; BigInt keeps that exact.
function varint(value: number | bigint): Uint8Array {
  let v = BigInt.asUintN(64, BigInt(value));
  const bytes: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    bytes.push(byte);
  } while (v !== 0n);
  return Uint8Array.from(bytes);
}

function tag(field: number, wire: number): Uint8Array {
  return varint((field << 3) | wire);
}

function intField(field: number, value: number): Uint8Array {
  return concat([tag(field, WIRE_VARINT), varint(value)]);
}

function bytesField(field: number, value: Uint8Array): Uint8Array {
  return concat([tag(field, WIRE_LEN), varint(value.length), value]);
}

function stringField(field: number, value: string): Uint8Array {
  return bytesField(field, textEncoder.encode(value));
}

function floatField(field: number, value: number): Uint8Array {
  const buf = new Uint8Array(4);
  new DataView(buf.buffer).setFloat32(0, value, true);
  return concat([tag(field, WIRE_FIXED32), buf]);
}

// Repeated scalars go unpacked: proto2 parsers (onnx.proto is proto2 syntax)
// must accept unpacked encoding, and it keeps the encoder trivial.
function repeatedInts(field: number, values: number[]): Uint8Array[] {
  return values.map((v) => intField(field, v));
}

const DATA_LOCATION_EXTERNAL = 1;

function encodeTensor(t: Tensor): Uint8Array {
  const head = [...repeatedInts(1, t.dims), intField(2, t.dataType), stringField(8, t.name)];
  if ('raw' in t) return concat([...head, bytesField(9, t.raw)]);
  const entry = (key: string, value: string) => bytesField(13, concat([stringField(1, key), stringField(2, value)]));
  return concat([
    ...head,
    entry('location', t.external.location),
    entry('offset', String(t.external.offset)),
    entry('length', String(t.external.length)),
    intField(14, DATA_LOCATION_EXTERNAL),
  ]);
}

const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_TENSOR = 4;
const ATTR_GRAPH = 5;
const ATTR_INTS = 7;

function encodeAttribute(name: string, attr: Attribute): Uint8Array {
  const parts = [stringField(1, name)];
  switch (attr.kind) {
    case 'float':
      parts.push(floatField(2, attr.value), intField(20, ATTR_FLOAT));
      break;
    case 'int':
      parts.push(intField(3, attr.value), intField(20, ATTR_INT));
      break;
    case 'tensor':
      parts.push(bytesField(5, encodeTensor(attr.value)), intField(20, ATTR_TENSOR));
      break;
    case 'graph':
      parts.push(bytesField(6, encodeGraph(attr.value)), intField(20, ATTR_GRAPH));
      break;
    case 'ints':
      parts.push(...repeatedInts(8, attr.value), intField(20, ATTR_INTS));
      break;
  }
  return concat(parts);
}

function encodeNode(n: Node): Uint8Array {
  const parts = [
    ...n.inputs.map((i) => stringField(1, i)),
    ...n.outputs.map((o) => stringField(2, o)),
    stringField(3, n.name),
    stringField(4, n.opType),
  ];
  for (const [name, attr] of Object.entries(n.attributes ?? {})) {
    parts.push(bytesField(5, encodeAttribute(name, attr)));
  }
  return concat(parts);
}

function encodeValueInfo(v: ValueInfo): Uint8Array {
  const dims = v.shape.map((d) =>
    bytesField(1, typeof d === 'number' ? intField(1, d) : stringField(2, d)),
  );
  const shape = concat(dims);
  const tensorType = concat([intField(1, v.elemType), bytesField(2, shape)]);
  const type = bytesField(1, tensorType);
  return concat([stringField(1, v.name), bytesField(2, type)]);
}

function encodeGraph(g: Graph): Uint8Array {
  return concat([
    ...g.nodes.map((n) => bytesField(1, encodeNode(n))),
    stringField(2, g.name),
    ...g.initializers.map((t) => bytesField(5, encodeTensor(t))),
    ...g.inputs.map((v) => bytesField(11, encodeValueInfo(v))),
    ...g.outputs.map((v) => bytesField(12, encodeValueInfo(v))),
  ]);
}

export function encodeModel(m: Model): Uint8Array {
  const opset = concat([stringField(1, ''), intField(2, m.opsetVersion)]);
  return concat([
    intField(1, m.irVersion),
    stringField(2, m.producerName),
    stringField(3, m.producerVersion),
    bytesField(7, encodeGraph(m.graph)),
    bytesField(8, opset),
  ]);
}

// Tensor payloads are little-endian regardless of host byte order.
export function float32Tensor(name: string, dims: number[], data: Float32Array): Tensor {
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  return { name, dataType: DataType.FLOAT, dims, raw };
}

export function int64Tensor(name: string, dims: number[], data: number[]): Tensor {
  const raw = new Uint8Array(data.length * 8);
  const view = new DataView(raw.buffer);
  data.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  return { name, dataType: DataType.INT64, dims, raw };
}

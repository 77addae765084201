import type { EnginePreference } from './protocol';
import type { WebLLMVariant } from './webllm-models';

/** What the worker found out about WebGPU, as plain data so the choice below is testable. */
export type GpuProbe =
  | { status: 'no-webgpu' }
  | { status: 'no-adapter' }
  | { status: 'adapter-error'; message: string }
  | { status: 'adapter'; adapter: AdapterDescription };

export interface AdapterDescription {
  /** How the browser names the adapter, e.g. "nvidia ampere" or "google swiftshader". */
  name: string;
  features: readonly string[];
  limits: AdapterLimits;
  /** `navigator.deviceMemory`: the device's RAM in GiB, rounded and capped by the browser; absent where it does not say. */
  deviceMemoryGiB?: number;
}

export interface AdapterLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxStorageBuffersPerShaderStage: number;
}

export type EngineChoice =
  | { engine: 'webllm'; variant: WebLLMVariant; reason: string }
  | { engine: 'transformers.js'; reason: string }
  /** The user forced the GPU, and it cannot run here. */
  | { engine: 'none'; reason: string };

const MiB = 2 ** 20;
const mb = (bytes: number) => `${Math.round(bytes / MiB)} MB`;

/** Below these WebLLM refuses to start (its `detectGPUDevice` checks the same). */
const WEBLLM_MINIMUM: AdapterLimits = {
  maxBufferSize: 256 * MiB,
  maxStorageBufferBindingSize: 128 * MiB,
  maxComputeWorkgroupStorageSize: 32 * 1024,
  maxStorageBuffersPerShaderStage: 10,
};

/**
 * WebLLM asks for 1 GiB buffers and bindings; with less it warns that only the `-1k` context
 * variants are likely to fit, so that is where we switch to them.
 */
const FULL_CONTEXT_BUFFERS = 1024 * MiB;

/**
 * Integrated GPUs share the device's RAM, and the browser and the system need the rest: the full
 * variant is chosen only where the reported memory is at least twice what WebLLM says it needs.
 */
const MEMORY_HEADROOM = 2;

/** After this many lost GPU devices in one session, Auto stops trying the GPU. */
const GPU_LOSSES_BEFORE_CPU = 2;

/** The model being loaded, as far as choosing its engine goes. */
export interface GpuCandidate {
  name: string;
  /** Its WebLLM builds; none for a model WebLLM does not serve. */
  variants: readonly WebLLMVariant[];
}

/**
 * Picks the engine and, for WebLLM, the model's variant, with a reason short enough for the status
 * line. `auto` prefers the GPU and falls back to the CPU; `webgpu` never falls back (the caller
 * reports `none` as an error); `wasm` never touches the GPU, not even to probe it, and neither
 * does a model with no GPU build.
 */
export async function chooseEngine(
  preference: EnginePreference,
  probeGpu: () => Promise<GpuProbe>,
  gpuLosses: number,
  model: GpuCandidate,
): Promise<EngineChoice> {
  if (preference === 'wasm') return { engine: 'transformers.js', reason: 'CPU forced in settings' };
  const unusable = (reason: string): EngineChoice =>
    preference === 'webgpu' ? { engine: 'none', reason } : { engine: 'transformers.js', reason };
  if (model.variants.length === 0) return unusable(`${model.name} has no GPU build`);
  const probe = await probeGpu();

  if (probe.status === 'no-webgpu') return unusable('this browser has no WebGPU');
  if (probe.status === 'no-adapter') return unusable('WebGPU found no graphics adapter');
  if (probe.status === 'adapter-error') return unusable('WebGPU could not open the graphics adapter');
  if (preference === 'auto' && gpuLosses >= GPU_LOSSES_BEFORE_CPU) {
    return { engine: 'transformers.js', reason: `the GPU was lost ${gpuLosses} times in this session` };
  }

  const { adapter } = probe;
  const shortLimit = (Object.keys(WEBLLM_MINIMUM) as (keyof AdapterLimits)[]).find(
    (name) => adapter.limits[name] < WEBLLM_MINIMUM[name],
  );
  if (shortLimit) {
    const [have, need] = [adapter.limits[shortLimit], WEBLLM_MINIMUM[shortLimit]];
    const size = (n: number) => (!shortLimit.endsWith('Size') ? String(n) : n >= MiB ? mb(n) : `${Math.round(n / 1024)} KB`);
    return unusable(`this adapter's ${shortLimit} is ${size(have)}, below the ${size(need)} WebLLM needs`);
  }

  // f16 builds where the adapter has shader-f16 (they are smaller and faster), f32 ones otherwise.
  const f16 = adapter.features.includes('shader-f16');
  const featureReason = f16 ? 'this adapter has shader-f16' : 'no shader-f16 on this adapter';
  const runnable = model.variants.filter((v) => f16 || !v.requiresShaderF16);
  const preferred = f16 && runnable.some((v) => v.requiresShaderF16) ? runnable.filter((v) => v.requiresShaderF16) : runnable;
  if (preferred.length === 0) return unusable(`every GPU build of ${model.name} needs shader-f16, which this adapter lacks`);
  const byContext = [...preferred].sort((a, b) => b.contextSize - a.contextSize);
  const full = byContext[0];
  const short = byContext.length > 1 && byContext.at(-1)!.contextSize < full.contextSize ? byContext.at(-1)! : undefined;

  const smallestBuffer = Math.min(adapter.limits.maxBufferSize, adapter.limits.maxStorageBufferBindingSize);
  if (short && !full.lowResource && smallestBuffer < FULL_CONTEXT_BUFFERS) {
    return { engine: 'webllm', variant: short, reason: `${featureReason}, and its ${mb(smallestBuffer)} buffer limit calls for 1k context` };
  }
  const memory = adapter.deviceMemoryGiB;
  if (short && memory !== undefined && memory * 1024 < full.vramMB * MEMORY_HEADROOM) {
    return { engine: 'webllm', variant: short, reason: `${featureReason}, and ${memory} GB of device memory calls for 1k context` };
  }
  return { engine: 'webllm', variant: full, reason: featureReason };
}

import { ENGINE_PREFERENCES, type EnginePreference, type GpuModelSource } from '../../workers/protocol';
import { validateModelUrl } from './model-source';

/**
 * Where WebLLM itself fetches phi-2: the weights from Hugging Face, the model compiled for WebGPU
 * from the binary-mlc-llm-libs repository, at the version @mlc-ai/web-llm 0.2.86 was built for.
 */
export const HOSTED_GPU_SOURCE: GpuModelSource = {
  weightsBaseUrl: 'https://huggingface.co/mlc-ai/',
  libBaseUrl: 'https://raw.githubusercontent.com/mlc-ai/binary-mlc-llm-libs/main/web-llm-models/v0_2_86/base/',
};

/** A mirror keeps weights and libraries in one folder (the layout is in the README). */
export function mirrorSource(baseUrl: string): GpuModelSource {
  return { weightsBaseUrl: baseUrl, libBaseUrl: baseUrl };
}

export const isMirror = (source: GpuModelSource) => source.weightsBaseUrl !== HOSTED_GPU_SOURCE.weightsBaseUrl;

export const ENGINE_LABELS: Record<EnginePreference, string> = {
  auto: 'Auto',
  webgpu: 'GPU (WebLLM)',
  wasm: 'CPU (WASM)',
};

const PREFERENCE_KEY = 'phi-chat.engine';
const MIRROR_KEY = 'phi-chat.webllm-mirror';

export function resolvePreference(storage: Pick<Storage, 'getItem'>): EnginePreference {
  const saved = storage.getItem(PREFERENCE_KEY);
  return ENGINE_PREFERENCES.find((p) => p === saved) ?? 'auto';
}

export function savePreference(preference: EnginePreference, storage: Pick<Storage, 'setItem' | 'removeItem'>) {
  if (preference === 'auto') storage.removeItem(PREFERENCE_KEY);
  else storage.setItem(PREFERENCE_KEY, preference);
}

/** The WebLLM files: a `?webllm=<mirror URL>` link wins, then the mirror saved in settings, then the hosted files. */
export function resolveGpuSource(location: { href: string; search: string }, storage: Pick<Storage, 'getItem'>): GpuModelSource {
  const linked = new URLSearchParams(location.search).get('webllm');
  if (linked) return mirrorSource(validateModelUrl(linked, location.href));
  const saved = storage.getItem(MIRROR_KEY);
  if (saved) {
    try {
      return mirrorSource(validateModelUrl(saved, location.href));
    } catch {
      // A corrupt saved setting falls back to the hosted files rather than blocking the app.
    }
  }
  return HOSTED_GPU_SOURCE;
}

export function saveGpuSource(source: GpuModelSource, storage: Pick<Storage, 'setItem' | 'removeItem'>) {
  if (isMirror(source)) storage.setItem(MIRROR_KEY, source.weightsBaseUrl);
  else storage.removeItem(MIRROR_KEY);
}

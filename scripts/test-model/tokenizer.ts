// GPT-2 style byte-level BPE, trained from scratch on a small built-in corpus so
// the test model ships a real CodeGen/phi-2 shaped tokenizer without downloading one.

export const EOS_TOKEN = '<|endoftext|>';
/** ChatML's turn markers, the special tokens of the `--chat` variant. */
export const IM_START = '<|im_start|>';
export const IM_END = '<|im_end|>';
/**
 * The classic ChatML template (as in SmolLM2's and Qwen2.5's tokenizer_config.json, less their
 * default system message): every message `<|im_start|>role\n…<|im_end|>\n`, then the generation prompt.
 */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
export const MODEL_MAX_LENGTH = 2048;

// Chat-flavoured English so the common words of a support/sales/jokes assistant
// end up as whole tokens. Kept free of ':' and newlines on purpose: phi-2 style
// prompts use them as turn markers, and the model should have no reason to emit them.
const CORPUS = [
  'Hello there! Welcome to our support chat. How can I help you today? I am happy to help with support, sales, or a good joke.',
  'Hi! Thanks for reaching out to customer support. Our support team is here to help you with your order, your account, and your questions. Please tell me what happened and I will do my best to help.',
  'Good morning and welcome. If you want to talk to sales, I can help with that too. Our sales team can tell you about the product, the price, and the plan that is right for you. Would you like to hear about our new product?',
  'Sure, here is a joke for you. Why did the computer go to the doctor? Because it had a virus! Do you want another joke? I know a joke about the support team, and a joke about the sales team, but the best joke is about the product.',
  'I am sorry to hear that your order did not arrive. Let me check the order for you. Could you please tell me your order number? Thank you for your patience. Our support team will send you a new order today.',
  'Thanks for your question about the price. The basic plan is free, and the pro plan is a good deal for a small team. If you have more questions about sales or the price, please ask me and I will be happy to help.',
  'Hi again! Here is another joke. What do you call a bear with no teeth? A gummy bear! I hope that made you smile. Is there anything else I can help you with today? I can help with support, sales, and more jokes.',
  'Good evening! Thank you for your message. I understand that you want to return the product. That is no problem at all. Our support team will help you with the return, and you will get your money back in a few days.',
  'Hello and thank you for choosing our product. Many customers love the new features, and our sales team is always happy to help you find the right plan. If you need help, our support team is ready to answer your questions.',
  'Have a great day, and thank you for talking with me! If you have any other questions about support, sales, your order, or your account, just send a message. And if you need a good joke, I am always here.',
  "Hey! I'm glad you stopped by. You're talking to a friendly assistant that runs right here in your browser, so your words never leave this computer. What would you like to talk about?",
  'Your package was shipped yesterday and should arrive within three business days. You can track the delivery with the link in your email. If the box is damaged, please take a photo and we will replace it for free.',
  "I'm sorry, but I don't see a payment on your account yet. Sometimes the bank needs a day or two. Could you check your card statement and let me know the date of the charge? Then I can fix the billing problem quickly.",
  'Here is a short joke. Why don\'t programmers like nature? It has too many bugs! And one more. Why was the math book sad? Because it had too many problems. I could tell jokes all day long.',
  'Great question! Our premium plan includes fast shipping, priority support, and a discount on every purchase. Many small businesses start with the basic plan and upgrade later. Shall I send you a quote?',
  'It is nice to meet you. My name is Phi, and I am a small language model. I can answer simple questions, write short notes, explain ideas, and share a funny story when you need a break.',
  'To reset your password, open the settings page, choose security, and follow the steps. You will get an email with a secure link. The link works for one hour, so please use it soon. Let me know if anything goes wrong.',
  'Thanks so much for your kind words! We really appreciate loyal customers like you. As a thank you, here is a coupon for ten percent off your next order. Enjoy, and have a wonderful week!',
  'The weather is lovely today, perfect for a walk in the park. Do you have any plans for the weekend? I would probably read a good book, drink some coffee, and listen to music with friends.',
  'Our store is open every day from nine in the morning until six in the evening. You can also shop online at any time. Free returns are available for thirty days after your purchase, no questions asked.',
].join(' ');

// The exact pre-tokenizer regex of GPT-2 / the HF ByteLevel pre-tokenizer; training
// must split text the same way the runtime tokenizer does.
const PRETOKENIZE = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

// GPT-2's reversible byte -> printable character table: printable Latin-1 bytes
// map to themselves, the rest are shifted above U+0100 so no symbol is whitespace.
const BYTE_TO_CHAR: string[] = (() => {
  const table: string[] = new Array<string>(256);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    table[b] = String.fromCharCode(printable ? b : 256 + shifted++);
  }
  return table;
})();

const CHAR_TO_BYTE = new Map(BYTE_TO_CHAR.map((c, b) => [c, b]));

const utf8 = new TextEncoder();

function toSymbols(text: string): string {
  return Array.from(utf8.encode(text), (b) => BYTE_TO_CHAR[b]).join('');
}

/** Bytes a byte-level vocabulary entry stands for. */
export function symbolBytes(symbol: string): Uint8Array {
  return Uint8Array.from(symbol, (c) => {
    const b = CHAR_TO_BYTE.get(c);
    if (b === undefined) throw new Error(`not a byte-level symbol: ${JSON.stringify(c)}`);
    return b;
  });
}

export interface Vocabulary {
  /** Byte-level symbol string of each token id; the last entry is EOS. */
  tokens: string[];
  merges: [string, string][];
  eosId: number;
  /** The ChatML markers' ids, in the chat variant. */
  chat?: { imStartId: number; imEndId: number };
  /** Byte-level spellings of the complete pre-tokenized words of the corpus (" support", "."). */
  corpusWords: Set<string>;
}

// Pairs seen only once would just memorise rare corpus words; stopping at count 2
// leaves a few hundred merges. The cap only guards against a grown corpus.
const MIN_PAIR_COUNT = 2;
const MAX_MERGES = 700;

/**
 * Classic BPE training. Ties between equally frequent pairs are broken by string
 * order so the vocabulary never depends on Map iteration details.
 */
export function trainVocabulary({ chat = false }: { chat?: boolean } = {}): Vocabulary {
  const wordCounts = new Map<string, number>();
  for (const match of CORPUS.matchAll(PRETOKENIZE)) {
    const symbols = toSymbols(match[0]);
    wordCounts.set(symbols, (wordCounts.get(symbols) ?? 0) + 1);
  }
  const words = [...wordCounts].map(([w, count]) => ({ parts: Array.from(w), count }));

  const tokens = [...BYTE_TO_CHAR];
  const merges: [string, string][] = [];
  while (merges.length < MAX_MERGES) {
    const pairCounts = new Map<string, number>();
    for (const { parts, count } of words) {
      for (let i = 0; i + 1 < parts.length; i++) {
        const key = `${parts[i]} ${parts[i + 1]}`;
        pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestCount = 0;
    for (const [key, count] of pairCounts) {
      if (count > bestCount || (count === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = count;
      }
    }
    if (best === undefined || bestCount < MIN_PAIR_COUNT) break;

    const [left, right] = best.split(' ') as [string, string];
    const merged = left + right;
    merges.push([left, right]);
    // Different merge paths can spell the same string; the vocabulary keeps one id.
    if (!tokens.includes(merged)) tokens.push(merged);
    for (const word of words) {
      const next: string[] = [];
      for (let i = 0; i < word.parts.length; i++) {
        if (i + 1 < word.parts.length && word.parts[i] === left && word.parts[i + 1] === right) {
          next.push(merged);
          i++;
        } else {
          next.push(word.parts[i]!);
        }
      }
      word.parts = next;
    }
  }

  tokens.push(EOS_TOKEN);
  const eosId = tokens.length - 1;
  if (!chat) return { tokens, merges, eosId, corpusWords: new Set(wordCounts.keys()) };
  tokens.push(IM_START, IM_END);
  return { tokens, merges, eosId, chat: { imStartId: eosId + 1, imEndId: eosId + 2 }, corpusWords: new Set(wordCounts.keys()) };
}

/**
 * tokenizer.json and tokenizer_config.json, laid out like microsoft/phi-2's; the chat variant adds
 * ChatML's markers as special tokens, its chat template, and `<|im_end|>` as its end of turn.
 */
export function tokenizerFiles(vocab: Vocabulary): { tokenizer: object; tokenizerConfig: object } {
  const specialDecoder = (content: string) => ({
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  });
  const specials: [number, string][] = [[vocab.eosId, EOS_TOKEN], ...(vocab.chat ? ([[vocab.chat.imStartId, IM_START], [vocab.chat.imEndId, IM_END]] as [number, string][]) : [])];
  const byteLevel = { add_prefix_space: false, trim_offsets: true, use_regex: true };
  const tokenizer = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: specials.map(([id, content]) => ({ id, ...specialDecoder(content) })),
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', ...byteLevel },
    post_processor: { type: 'ByteLevel', ...byteLevel, trim_offsets: false },
    decoder: { type: 'ByteLevel', ...byteLevel },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: '',
      end_of_word_suffix: '',
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(vocab.tokens.map((t, id) => [t, id])),
      merges: vocab.merges.map(([a, b]) => `${a} ${b}`),
    },
  };
  const tokenizerConfig = {
    add_prefix_space: false,
    added_tokens_decoder: Object.fromEntries(specials.map(([id, content]) => [id, specialDecoder(content)])),
    bos_token: EOS_TOKEN,
    clean_up_tokenization_spaces: true,
    eos_token: vocab.chat ? IM_END : EOS_TOKEN,
    ...(vocab.chat ? { chat_template: CHATML_TEMPLATE } : {}),
    model_max_length: MODEL_MAX_LENGTH,
    return_token_type_ids: false,
    tokenizer_class: 'CodeGenTokenizer',
    unk_token: EOS_TOKEN,
  };
  return { tokenizer, tokenizerConfig };
}

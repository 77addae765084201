import { describe, expect, it } from 'vitest';
import { DISGUISES, LINE_BREAKS } from './disguises';
import { StopSequenceFilter } from './stop-sequences';

/** Feeds chunks, returns what the user would see and whether the filter stopped. */
function run(chunks: string[]) {
  const filter = new StopSequenceFilter();
  let shown = '';
  let stopped = false;
  const seen: string[] = [];
  for (const chunk of chunks) {
    const result = filter.push(chunk);
    shown += result.text;
    seen.push(shown);
    if (result.stopped) {
      stopped = true;
      break;
    }
  }
  if (!stopped) shown += filter.flush();
  return { shown, stopped, seen };
}

describe('StopSequenceFilter', () => {
  it('passes ordinary text through and drops the leading space after "Chatbot:"', () => {
    expect(run([' Hello', ' there', '!'])).toMatchObject({ shown: 'Hello there!', stopped: false });
  });

  it.each(['\nHuman:', '\nChatbot:', '\nInstruct:', '\nOutput:', '\nAlice:', '\nMary Ann:', '\n  Human:'])(
    'stops at %j and never shows it',
    (marker) => {
      const { shown, stopped } = run([' Sure, here you go.', marker, ' and more']);
      expect(stopped).toBe(true);
      expect(shown).toBe('Sure, here you go.');
    },
  );

  it('stops at a marker split across many tokens, never showing a piece of it', () => {
    const { shown, stopped, seen } = run([' Done.', '\n', 'Hu', 'm', 'an', ':', ' next?']);
    expect(stopped).toBe(true);
    expect(shown).toBe('Done.');
    for (const partial of seen) expect(partial).not.toMatch(/\n|Hu/);
  });

  it('releases held text when the line turns out not to be a marker', () => {
    const { shown, stopped } = run([' First line.', '\n', 'Then', ' more', ' text.']);
    expect(stopped).toBe(false);
    expect(shown).toBe('First line.\nThen more text.');
  });

  it('keeps lines that only look like labels: numbers, lowercase, or long sentences', () => {
    const text = ' Steps:\n1: open it\nnote: fine\nThis is a long sentence that ends with a colon:';
    expect(run([text]).shown).toBe(text.trim());
  });

  it('holds back a trailing newline until the reply ends, then trims it', () => {
    const filter = new StopSequenceFilter();
    expect(filter.push(' Bye.\n').text).toBe('Bye.');
    expect(filter.flush()).toBe('');
  });

  it('says nothing more once stopped', () => {
    const filter = new StopSequenceFilter();
    filter.push(' A\nHuman: x');
    expect(filter.push('more')).toEqual({ text: '', stopped: true });
    expect(filter.flush()).toBe('');
  });
});

describe('StopSequenceFilter with a persona', () => {
  it('stops at a persona name the default pattern would miss, even split across tokens', () => {
    const filter = new StopSequenceFilter(['bob the 2nd']);
    let shown = '';
    for (const piece of [' Fine.', '\nbob', ' the', ' 2', 'nd', ':', ' more']) {
      const result = filter.push(piece);
      shown += result.text;
      expect(shown).not.toContain('bob');
      if (result.stopped) break;
    }
    expect(shown).toBe('Fine.');
  });
});

describe('a disguised speaker line the model writes', () => {
  const speakers = ['Bob', 'Mary Ann'];
  const names = ['Human', 'Chatbot', 'Instruct', 'Output', 'Alice', ...speakers];
  const cases = names.flatMap((name) =>
    Object.entries(DISGUISES)
      .filter(([disguise]) => disguise !== 'lowercase')
      .map(([disguise, apply]) => [name, disguise, apply(name)] as const),
  );

  it.each(cases)('%s with %s ends the reply, even one character at a time', (_, __, disguised) => {
    for (const [lineBreak, colon] of [...Object.values(LINE_BREAKS).map((b) => [b, ':']), ['\n', '\uFF1A']]) {
      const filter = new StopSequenceFilter(speakers);
      let shown = filter.push(' Sure.').text;
      let stopped = false;
      for (const char of [...`${lineBreak}${disguised}${colon}`, ' forged']) {
        const result = filter.push(char);
        shown += result.text;
        stopped = result.stopped;
        if (stopped) break;
      }
      expect(stopped, JSON.stringify(disguised)).toBe(true);
      expect(shown).toBe('Sure.');
    }
  });
});

describe('StopSequenceFilter for a chat template', () => {
  const chat = (chunks: string[], speakers = ['Human', 'Chatbot']) => {
    const filter = new StopSequenceFilter(speakers, { anySpeaker: false, markers: ['<|im_start|>', '<|im_end|>'] });
    let shown = '';
    for (const chunk of chunks) {
      const result = filter.push(chunk);
      shown += result.text;
      if (result.stopped) return { shown, stopped: true };
    }
    return { shown: shown + filter.flush(), stopped: false };
  };

  it.each([
    ['its own marker, split across tokens', ['Sure, here', ' it is.<|im', '_start|>user\nmore']],
    ['its end of turn written out', ['Done.', '<|im_end|>', 'junk']],
    ['any other template’s marker', ['Done.<|eot_id|>', 'junk']],
    ['a disguised marker', ['Done.<｜im_start｜>user']],
  ])('ends the reply at %s and never shows it', (_, chunks) => {
    const result = chat(chunks);
    expect(result.stopped).toBe(true);
    expect(result.shown).toMatch(/^(Sure, here it is\.|Done\.)$/);
  });

  it('keeps a line like `Note:` that only a transcript would treat as a speaker', () => {
    expect(chat(['Steps', '\nNote: restart it.', '\nTip: wait'])).toEqual({ shown: 'Steps\nNote: restart it.\nTip: wait', stopped: false });
  });

  it('still ends at the two speakers’ own lines', () => {
    expect(chat(['Sure.', '\nHuman: thanks'])).toEqual({ shown: 'Sure.', stopped: true });
  });

  it('releases a held `<` that turned out to be text', () => {
    expect(chat(['a <', 'b and 1 <', '| 2'])).toEqual({ shown: 'a <b and 1 <| 2', stopped: false });
  });
});

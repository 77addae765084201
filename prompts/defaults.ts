/**
 * The prompts users edit in Settings, and what Reset to default goes back to. Apart from the
 * templates (index.ts), which only the worker fills: the page starts with just these few lines.
 */
import type { RouteIntent } from '../workers/protocol';
import groupReminder from './group-reminder.txt?raw';
import groupInstructions from './group.txt?raw';
import general from './intents/general.txt?raw';
import joke from './intents/joke.txt?raw';
import sales from './intents/sales.txt?raw';
import support from './intents/support.txt?raw';

export const DEFAULT_INSTRUCTIONS: Record<RouteIntent, string> = {
  support: support.trim(),
  sales: sales.trim(),
  joke: joke.trim(),
  general: general.trim(),
};

/** What the group instructions and their reminder go back to on Reset to default. */
export const DEFAULT_GROUP_PROMPTS = { instructions: groupInstructions.trim(), reminder: groupReminder.trim() };

import { getContext, setContext } from 'svelte';
import type { ChatState } from './chat.svelte';

/** The chat state, for components deep in the message list (actions, inspect) without prop chains. */
const KEY = Symbol('chat');
export const provideChat = (chat: ChatState) => setContext(KEY, chat);
export const useChat = () => getContext<ChatState>(KEY);

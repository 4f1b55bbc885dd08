// One ticking "now" for every countdown on the page (a timer per clock would drift apart).
import { ref } from 'vue'

export const now = ref(Date.now())
setInterval(() => {
  now.value = Date.now()
}, 1000)

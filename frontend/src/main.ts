import './styles.css'
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { currentLocale, i18n, setLocale } from './i18n'
import { router } from './router'
import { onSessionExpired, useAuthStore } from './stores/auth'

const app = createApp(App)
app.use(createPinia())
app.use(i18n)
app.use(router)

setLocale(currentLocale())
useAuthStore() // installs the token hooks of the API client before the first request
onSessionExpired(() => {
  const current = router.currentRoute.value
  if (current.name !== 'login') {
    void router.replace({ name: 'login', query: { redirect: current.fullPath, expired: '1' } })
  }
})

app.mount('#app')

"""In-app notifications (站内消息) and the live update stream the UI listens to."""

// The seed's program: gin.Default() (logger + recovery), GET /ping -> {"message": "pong"}.
package main

import (
	"os"

	"github.com/gin-gonic/gin"
)

func main() {
	gin.SetMode(gin.ReleaseMode)
	r := gin.Default()
	r.GET("/ping", func(c *gin.Context) {
		c.JSON(200, gin.H{"message": "pong"})
	})
	r.Run("127.0.0.1:" + os.Args[1])
}
